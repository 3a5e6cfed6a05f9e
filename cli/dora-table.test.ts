import { describe, expect, it } from 'vitest';
import { doraReport } from '../core/dora/report';
import { doraRows, duration, percent } from './dora-table';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');

describe('sparki dora table', () => {
  it('reads durations and rates as a person would', () => {
    expect(duration(null)).toBe('-');
    expect(duration(45)).toBe('45s');
    expect(duration(2100)).toBe('35m');
    expect(duration(7500)).toBe('2h 5m');
    expect(duration(3 * 86_400 + 4 * 3600)).toBe('3d 4h');
    expect(percent(0.25)).toBe('25%');
    expect(percent(null)).toBe('-');
  });

  it('shows each metric with what it was computed from and its band', () => {
    // Two deployments in a day: d1 live 1 h after its commit; d2 live 2 h after and rolled
    // back 30 min later. 2 a day (elite), lead times 1 h and 2 h → 1 h 30 m (elite), 1 of 2
    // failed (low), recovered in 30 m (elite), no rework.
    const base = { projectId: 'p', environmentId: 'e', branch: 'main', commitMessage: 'x' };
    const report = doraReport(
      [
        {
          ...base,
          id: 'd1',
          buildId: 'b1',
          commitSha: 'c1',
          committedAt: T0,
          status: 'live',
          verifyingAt: T0 + HOUR,
          liveAt: T0 + HOUR,
          rolledBackAt: null,
          failedAt: null,
        },
        {
          ...base,
          id: 'd2',
          buildId: 'b2',
          commitSha: 'c2',
          committedAt: T0 + HOUR,
          status: 'rolled_back',
          verifyingAt: T0 + 3 * HOUR,
          liveAt: T0 + 3 * HOUR,
          rolledBackAt: T0 + 3.5 * HOUR,
          failedAt: null,
        },
      ],
      { from: T0, to: T0 + 24 * HOUR },
    );
    expect(doraRows(report)).toEqual([
      ['METRIC', 'VALUE', 'FROM', 'BAND'],
      ['Deployment frequency', '2.00/day', '2 deployments', 'elite'],
      ['Change lead time', '1h 30m', 'median of 2 changes', 'elite'],
      ['Change fail rate', '50%', '1 of 2', 'low'],
      ['Failed deployment recovery time', '30m', 'median of 1 recovery', 'elite'],
      ['Deployment rework rate', '0%', '0 of 2', '-'],
    ]);
  });
});
