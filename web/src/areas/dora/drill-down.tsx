import { Link } from '@tanstack/react-router';
import { Card } from '../../components/ui';
import { shortSha } from '../../lib/format';
import { type DoraReport, span } from './search';

const FAILURE: Record<string, string> = {
  rolled_back: 'rolled back',
  failed: 'failed in production',
  fixed: 'needed a fix',
};
const REWORK: Record<string, string> = {
  fix_change: 'fix (revert or hotfix)',
  during_incident: 'made during an incident',
};

/** The deployments behind a number: all of the window's, or the chosen metric's. */
export function DrillDown({
  report,
  selected,
  onClear,
}: {
  report: DoraReport;
  selected: { name: string; ids: string[] } | null;
  onClear: () => void;
}) {
  const shown = selected
    ? report.deployments.filter((d) => selected.ids.includes(d.id))
    : report.deployments;
  const caption = selected
    ? `Deployments behind ${selected.name.toLowerCase()}`
    : 'Production deployments in the window';
  return (
    <Card
      title={caption}
      actions={
        selected && (
          <button type="button" className="text-sm text-accent underline" onClick={onClear}>
            Show all
          </button>
        )
      }
    >
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">{caption}</caption>
          <thead className="text-muted">
            <tr>
              <th className="py-1 pr-3 font-medium">Deployed</th>
              <th className="py-1 pr-3 font-medium">Commit</th>
              <th className="py-1 pr-3 font-medium">Lead time</th>
              <th className="py-1 pr-3 font-medium">Failure</th>
              <th className="py-1 font-medium">Rework</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <tr key={d.id} className="border-t border-line">
                <td className="py-1 pr-3">
                  <Link to="/deployments/$deploymentId" params={{ deploymentId: d.id }}>
                    {new Date(d.deployed_at).toLocaleString()}
                  </Link>
                </td>
                <td className="py-1 pr-3">
                  <code>{shortSha(d.commit_sha)}</code> {d.commit_message}
                </td>
                <td className="py-1 pr-3">{span(d.lead_time_seconds)}</td>
                <td className="py-1 pr-3">
                  {d.failure
                    ? `${FAILURE[d.failure.kind]}, recovered ${d.failure.recovery_seconds === null ? 'not yet' : `in ${span(d.failure.recovery_seconds)}`}`
                    : '—'}
                </td>
                <td className="py-1">{d.rework ? REWORK[d.rework.reason] : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
