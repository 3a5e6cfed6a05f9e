import { queryOptions, useQuery } from '@tanstack/react-query';
import { formatDuration } from '../../../../core/trace/timeline';
import { api, type Schemas, unwrap } from '../../api/client';

type Timeline = Schemas['BuildTimeline'];

/** After the build ended, its deployment's phases may still come: looked for this long. */
const DEPLOY_WAIT_MS = 5 * 60_000;

const timelineQuery = (buildId: string, finishedAt: string | null) =>
  queryOptions({
    queryKey: ['build', buildId, 'timeline'],
    queryFn: () =>
      unwrap(api.GET('/api/builds/{id}/timeline', { params: { path: { id: buildId } } })),
    // Phases arrive as the pipeline runs: until live, a failure, or long after the build ended.
    refetchInterval: (query) => {
      const phases = query.state.data?.phases ?? [];
      const over = phases.some((phase) => phase.phase === 'live' || phase.status === 'error');
      const stale = finishedAt !== null && Date.now() - Date.parse(finishedAt) > DEPLOY_WAIT_MS;
      return over || stale ? false : 3000;
    },
  });

function Bars({ timeline }: { timeline: Timeline }) {
  const first = Math.min(...timeline.phases.map((phase) => Date.parse(phase.started_at)));
  const total = Math.max(timeline.total_ms, 1);
  return (
    <ol className="grid gap-1">
      {timeline.phases.map((phase) => {
        const left = ((Date.parse(phase.started_at) - first) / total) * 100;
        const width = Math.max((phase.duration_ms / total) * 100, 0.5);
        return (
          <li
            key={phase.phase}
            data-phase={phase.phase}
            data-status={phase.status}
            className="grid grid-cols-[8rem_5rem_1fr] items-center gap-2 text-sm"
          >
            <span className={phase.status === 'error' ? 'text-danger' : undefined}>
              {phase.label}
            </span>
            <span className="text-right font-mono text-muted tabular-nums">
              {formatDuration(phase.duration_ms)}
            </span>
            <span className="relative h-2 rounded bg-line/40" aria-hidden>
              <span
                className={`absolute inset-y-0 rounded ${phase.status === 'error' ? 'bg-danger' : 'bg-accent'}`}
                style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }}
              />
            </span>
          </li>
        );
      })}
    </ol>
  );
}

/**
 * Where the build's time went, push to live: one row per phase of its pipeline run with its
 * duration and a bar placed where it ran within the whole.
 */
export function BuildTimeline({
  buildId,
  finishedAt,
}: {
  buildId: string;
  finishedAt: string | null;
}) {
  const timeline = useQuery(timelineQuery(buildId, finishedAt));
  if (!timeline.data || timeline.data.phases.length === 0) return null;
  const { data } = timeline;
  return (
    <section
      aria-label="Timeline"
      data-testid="build-timeline"
      className="mb-4 rounded-lg border border-line bg-panel p-4"
    >
      <h2 className="mb-2 flex items-baseline justify-between text-sm font-medium">
        Timeline
        <span className="font-normal text-muted" data-testid="timeline-total">
          {formatDuration(data.total_ms)} in all
          {data.trace_id && (
            <>
              {' · trace '}
              <code className="font-mono" title="W3C trace id, for your OpenTelemetry backend">
                {data.trace_id}
              </code>
            </>
          )}
        </span>
      </h2>
      <Bars timeline={data} />
    </section>
  );
}
