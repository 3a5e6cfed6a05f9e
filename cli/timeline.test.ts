import { describe, expect, it } from 'vitest';
import { type BuildTimeline, timelineLines } from './timeline';

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

describe('the timeline sparki logs prints', () => {
  it('lists each phase with its duration and a bar where it ran, then the total and the trace', () => {
    const timeline: BuildTimeline = {
      build_id: 'b',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      phases: [
        { phase: 'queued', label: 'queued', started_at: at(0), duration_ms: 1_000, status: 'ok' },
        {
          phase: 'build',
          label: 'build',
          started_at: at(1_000),
          duration_ms: 2_000,
          status: 'error',
        },
        {
          phase: 'health_check',
          label: 'health check',
          started_at: at(3_000),
          duration_ms: 45,
          status: 'ok',
        },
      ],
      total_ms: 3_045,
    };
    expect(timelineLines(timeline)).toEqual([
      'Timeline',
      '  queued            1.0 s  ████████',
      '  build             2.0 s         ████████████████  ✗',
      '  health check      45 ms                         █',
      '  total             3.0 s  (trace 4bf92f3577b34da6a3ce929d0e0e4736)',
    ]);
  });

  it('prints nothing for a build with no phase recorded yet', () => {
    expect(timelineLines({ build_id: 'b', trace_id: null, phases: [], total_ms: 0 })).toEqual([]);
  });
});
