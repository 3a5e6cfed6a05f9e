import { Link } from '@tanstack/react-router';
import { StatusBadge } from '../../components/status-badge';
import { duration, shortSha, timeAgo } from '../../lib/format';
import type { Build } from './queries';

/** A table's column headings. */
export function TableHead({ columns, cell = 'px-3 py-2' }: { columns: string[]; cell?: string }) {
  return (
    <thead className="border-b border-line text-muted">
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col" className={`${cell} font-medium`}>
            {column}
          </th>
        ))}
      </tr>
    </thead>
  );
}

function took(build: Build): number | null {
  if (!build.started_at) return null;
  const end = build.finished_at ? Date.parse(build.finished_at) : Date.now();
  return end - Date.parse(build.started_at);
}

/** Builds, newest first: number (to the build's page), status, branch and commit, trigger, when. */
export function BuildsTable({ builds, caption }: { builds: Build[]; caption: string }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full min-w-[36rem] text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <TableHead
          columns={['Build', 'Status', 'Branch · commit', 'Trigger', 'Queued', 'Duration']}
        />
        <tbody>
          {builds.map((build) => (
            <tr
              key={build.id}
              className="border-b border-line last:border-0"
              data-build={build.number}
            >
              <td className="px-3 py-2">
                <Link
                  to="/builds/$buildId"
                  params={{ buildId: build.id }}
                  className="font-medium text-accent underline-offset-2 hover:underline"
                >
                  #{build.number}
                </Link>
              </td>
              <td className="px-3 py-2">
                <StatusBadge status={build.status} />
              </td>
              <td className="px-3 py-2">
                <span>{build.branch ?? build.tag ?? '—'}</span>
                <span className="ml-2 font-mono text-xs text-muted">
                  {shortSha(build.commit_sha)}
                </span>
                {build.commit_message && (
                  <div className="max-w-xs truncate text-xs text-muted">{build.commit_message}</div>
                )}
              </td>
              <td className="px-3 py-2">
                {build.trigger.replace('_', ' ')}
                {build.target === 'production' && (
                  <span className="ml-1 text-xs text-muted">(production)</span>
                )}
              </td>
              <td className="px-3 py-2 text-muted">
                <time dateTime={build.queued_at}>{timeAgo(build.queued_at)}</time>
              </td>
              <td className="px-3 py-2 text-muted">{duration(took(build))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
