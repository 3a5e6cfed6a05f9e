import { formatDuration } from '../core/trace/timeline';
import type { Api } from './client';
import { ApiRequestError } from './output';

/** `GET /api/builds/{id}/timeline`, as the CLI reads it. */
export interface BuildTimeline {
  build_id: string;
  trace_id: string | null;
  phases: {
    phase: string;
    label: string;
    started_at: string;
    duration_ms: number;
    status: 'unset' | 'ok' | 'error';
  }[];
  total_ms: number;
}

const BAR_WIDTH = 24;

/**
 * The timeline as `sparki logs` prints it at the end of a build: one line per phase with its
 * duration and a bar placed where it ran within the whole, then the total and the trace id.
 */
export function timelineLines(timeline: BuildTimeline): string[] {
  if (timeline.phases.length === 0) return [];
  const first = Math.min(...timeline.phases.map((phase) => Date.parse(phase.started_at)));
  const total = Math.max(timeline.total_ms, 1);
  const width = Math.max(...timeline.phases.map((phase) => phase.label.length));
  const lines = timeline.phases.map((phase) => {
    const offset = Math.floor(((Date.parse(phase.started_at) - first) / total) * BAR_WIDTH);
    const length = Math.max(1, Math.round((phase.duration_ms / total) * BAR_WIDTH));
    const bar = `${' '.repeat(offset)}${'█'.repeat(Math.min(length, BAR_WIDTH - offset) || 1)}`;
    const mark = phase.status === 'error' ? ' ✗' : '';
    const duration = formatDuration(phase.duration_ms).padStart(9);
    return `  ${phase.label.padEnd(width)}  ${duration}  ${bar.padEnd(BAR_WIDTH)}${mark}`.trimEnd();
  });
  const trace = timeline.trace_id ? `  (trace ${timeline.trace_id})` : '';
  return [
    'Timeline',
    ...lines,
    `  ${'total'.padEnd(width)}  ${formatDuration(timeline.total_ms).padStart(9)}${trace}`,
  ];
}

/** The build's timeline; undefined from a platform that keeps none (older than the route). */
export async function fetchTimeline(api: Api, buildId: string): Promise<BuildTimeline | undefined> {
  try {
    return await api.get<BuildTimeline>(`/api/builds/${encodeURIComponent(buildId)}/timeline`);
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 404) return undefined;
    throw error;
  }
}
