import type { SpanStatusCode } from './span';

/**
 * The compact timeline of one build, from the push to the live deployment: each phase a span (or
 * several) of the build's trace recorded, in the order a pipeline runs them.
 */
export const BUILD_PHASES = [
  'queued',
  'planned',
  'runner_picked',
  'checkout',
  'install',
  'build',
  'upload',
  'deploy',
  'health_check',
  'live',
] as const;
export type BuildPhase = (typeof BUILD_PHASES)[number];

export const PHASE_LABELS: Record<BuildPhase, string> = {
  queued: 'queued',
  planned: 'planned',
  runner_picked: 'runner picked',
  checkout: 'checkout',
  install: 'install',
  build: 'build',
  upload: 'upload',
  deploy: 'deploy',
  health_check: 'health check',
  live: 'live',
};

/** What the timeline is made of: a recorded span's phase, times and status. */
export interface PhaseSpan {
  traceId: string;
  phase: BuildPhase;
  startMs: number;
  endMs: number;
  status: SpanStatusCode;
}

export interface TimelinePhase {
  phase: BuildPhase;
  startMs: number;
  durationMs: number;
  /** `error` when any of its spans failed (a failed step, a failed health check). */
  status: SpanStatusCode;
}

export interface Timeline {
  traceId: string | null;
  phases: TimelinePhase[];
  /** From the first phase's start to the last one's end; 0 when nothing was recorded. */
  totalMs: number;
}

/**
 * Phases of the build's own trace only (a later manual deployment of the build has a trace of
 * its own). A phase recorded more than once (a retried attempt, a canary checked at each share)
 * spans from its first start to its last end, so the time it took is all in it.
 */
export function assembleTimeline(traceId: string | null, spans: readonly PhaseSpan[]): Timeline {
  const byPhase = new Map<BuildPhase, { start: number; end: number; status: SpanStatusCode }>();
  for (const span of spans) {
    if (span.traceId !== traceId) continue;
    const seen = byPhase.get(span.phase);
    const status =
      span.status === 'error' || seen?.status === 'error'
        ? 'error'
        : span.status === 'ok' || seen?.status === 'ok'
          ? 'ok'
          : 'unset';
    byPhase.set(span.phase, {
      start: Math.min(seen?.start ?? span.startMs, span.startMs),
      end: Math.max(seen?.end ?? span.endMs, span.endMs),
      status,
    });
  }
  const phases = BUILD_PHASES.flatMap((phase) => {
    const seen = byPhase.get(phase);
    return seen
      ? [{ phase, startMs: seen.start, durationMs: seen.end - seen.start, status: seen.status }]
      : [];
  });
  if (phases.length === 0) return { traceId, phases, totalMs: 0 };
  const first = Math.min(...phases.map((phase) => phase.startMs));
  const last = Math.max(...phases.map((phase) => phase.startMs + phase.durationMs));
  return { traceId, phases, totalMs: last - first };
}

/** `1.2 s`, `340 ms`, `2 min 5 s`: a duration as the CLI and the dashboard print it. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
}
