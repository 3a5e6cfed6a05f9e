import { describe, expect, it } from 'vitest';
import { assembleTimeline, formatDuration, type PhaseSpan } from './timeline';

const TRACE = 'a'.repeat(32);
const span = (
  phase: PhaseSpan['phase'],
  startMs: number,
  endMs: number,
  status: PhaseSpan['status'] = 'ok',
  traceId = TRACE,
): PhaseSpan => ({ traceId, phase, startMs, endMs, status });

describe('the build timeline', () => {
  it('orders phases as a pipeline runs them, whatever order they were recorded in', () => {
    const timeline = assembleTimeline(TRACE, [
      span('live', 9_000, 9_000),
      span('install', 3_000, 4_000),
      span('queued', 0, 1_000),
      span('health_check', 8_000, 9_000),
      span('checkout', 2_000, 3_000),
      span('planned', 1_000, 1_500),
      span('upload', 5_000, 6_000),
      span('runner_picked', 1_500, 2_000),
      span('build', 4_000, 5_000),
      span('deploy', 6_000, 8_000),
    ]);
    expect(timeline.phases.map((phase) => [phase.phase, phase.startMs, phase.durationMs])).toEqual([
      ['queued', 0, 1_000],
      ['planned', 1_000, 500],
      ['runner_picked', 1_500, 500],
      ['checkout', 2_000, 1_000],
      ['install', 3_000, 1_000],
      ['build', 4_000, 1_000],
      ['upload', 5_000, 1_000],
      ['deploy', 6_000, 2_000],
      ['health_check', 8_000, 1_000],
      ['live', 9_000, 0],
    ]);
    expect(timeline.totalMs).toBe(9_000);
  });

  it('spans a phase recorded twice from its first start to its last end, failed if one failed', () => {
    const timeline = assembleTimeline(TRACE, [
      span('checkout', 1_000, 1_200, 'error'),
      span('checkout', 5_000, 5_300),
      span('deploy', 6_000, 6_500),
      span('deploy', 6_400, 7_000),
    ]);
    expect(timeline.phases).toEqual([
      { phase: 'checkout', startMs: 1_000, durationMs: 4_300, status: 'error' },
      { phase: 'deploy', startMs: 6_000, durationMs: 1_000, status: 'ok' },
    ]);
    expect(timeline.totalMs).toBe(6_000);
  });

  it('keeps only the build’s own trace, and is empty until something was recorded', () => {
    const other = 'b'.repeat(32);
    expect(assembleTimeline(TRACE, [span('deploy', 0, 10, 'ok', other)])).toEqual({
      traceId: TRACE,
      phases: [],
      totalMs: 0,
    });
    expect(assembleTimeline(null, [span('queued', 0, 10)]).phases).toEqual([]);
  });
});

describe('durations', () => {
  it('reads as a person would say them', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(340)).toBe('340 ms');
    expect(formatDuration(1_234)).toBe('1.2 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(120_000)).toBe('2 min');
    expect(formatDuration(125_400)).toBe('2 min 5 s');
  });
});
