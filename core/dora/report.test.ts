import { describe, expect, it } from 'vitest';
import type { DeploymentRecord } from './records';
import { doraReport, median } from './report';

/**
 * One production environment's history, worked by hand. The window is the week from
 * 2026-03-01T00:00Z (T0) to 2026-03-08T00:00Z (T0 + 168 h); `h(n)` is T0 + n hours.
 *
 * | dep | commit (committed) | verifying | live    | afterwards                     |
 * | d0  | c0 (−50 h)         | −48 h     | −48 h   | before the window: context only |
 * | d1  | c1 (0 h)           | 1 h 50 m  | 2 h     | healthy                         |
 * | d2  | c2 (10 h)          | 11 h      | 12 h    | rolled back by hand at 13 h     |
 * | d3  | c3 (20 h)          | 24 h      | never   | failed 24 h 10 m, rolled back then (automatic) |
 * | d4  | c4 (30 h)          | 35 h 50 m | 36 h    | next one is a hotfix            |
 * | d5  | c5 "Hotfix: …"(37h)| 37 h 50 m | 38 h    | healthy                         |
 * | d6  | c6 (48 h)          | 49 h      | never   | failed at 49 h 5 m, not rolled back |
 * | d7  | c7 (50 h)          | 51 h 50 m | 52 h    | healthy                         |
 * | d8  | c7 again (redeploy)| 59 h 50 m | 60 h    | healthy                         |
 * | d9  | c9                 | never     | never   | failed validation: never reached production |
 * | d10 | c10 (160 h)        | 166 h 50 m| 167 h   | rolled back at 170 h, after the window |
 * | d11 | c11 (199 h)        | 199 h 50 m| 200 h   | after the window                |
 *
 * In the window: d1 d2 d3 d4 d5 d6 d7 d8 d10 = 9 deployments (d3 and d6 count from verifying).
 * - Frequency: 9 / 7 days = 1.2857 a day (9 a week) → elite (at least one a day).
 * - Lead time, first time a commit is live: d1 2 h, d2 2 h, d4 6 h, d5 1 h, d7 2 h, d10 7 h
 *   (d8 re-delivers c7: none; d3, d6 never live: none). Sorted 1 2 2 2 6 7 → median (2+2)/2 =
 *   2 h = 7200 s → elite (under a day).
 * - Failed: d2 (rolled back), d3 (rolled back), d4 (fixed by d5), d6 (failed), d10 (rolled back)
 *   = 5 / 9 = 0.5556 → low (above 15 %).
 * - Recovery from deployed: d2 13−12 = 1 h; d3 24h10m − 24h = 10 m; d4 rolled forward by d5
 *   38−36 = 2 h; d6 rolled forward by d7 52−49 = 3 h; d10 170−167 = 3 h. Sorted 10m 1h 2h 3h 3h
 *   → median 2 h = 7200 s → high (under a day, not under an hour).
 * - Rework: d5 (hotfix commit), d7 (deployed at 52 h while d6's incident was open until 52 h)
 *   = 2 / 9 = 0.2222. d8 (60 h) comes after d6 recovered; d5 is also inside d4's incident but the
 *   fix change is its reason.
 */
const T0 = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;
const MINUTE = 60_000;
const h = (hours: number) => T0 + hours * HOUR;

function dep(id: string, values: Partial<DeploymentRecord>): DeploymentRecord {
  return {
    id,
    projectId: 'p',
    environmentId: 'prod',
    buildId: `b-${id}`,
    commitSha: `c-${id}`,
    commitMessage: `change ${id}`,
    branch: 'main',
    committedAt: null,
    status: 'live',
    verifyingAt: null,
    liveAt: null,
    rolledBackAt: null,
    failedAt: null,
    ...values,
  };
}

const history: DeploymentRecord[] = [
  dep('d0', { committedAt: h(-50), verifyingAt: h(-48), liveAt: h(-48) }),
  dep('d1', { committedAt: h(0), verifyingAt: h(2) - 10 * MINUTE, liveAt: h(2) }),
  dep('d2', {
    committedAt: h(10),
    verifyingAt: h(11),
    liveAt: h(12),
    rolledBackAt: h(13),
    status: 'rolled_back',
  }),
  dep('d3', {
    committedAt: h(20),
    verifyingAt: h(24),
    failedAt: h(24) + 10 * MINUTE,
    rolledBackAt: h(24) + 10 * MINUTE,
    status: 'rolled_back',
  }),
  dep('d4', { committedAt: h(30), verifyingAt: h(36) - 10 * MINUTE, liveAt: h(36) }),
  dep('d5', {
    commitMessage: 'Hotfix: checkout total\n\nThe tax was counted twice.',
    committedAt: h(37),
    verifyingAt: h(38) - 10 * MINUTE,
    liveAt: h(38),
  }),
  dep('d6', {
    committedAt: h(48),
    verifyingAt: h(49),
    failedAt: h(49) + 5 * MINUTE,
    status: 'failed',
  }),
  dep('d7', { committedAt: h(50), verifyingAt: h(52) - 10 * MINUTE, liveAt: h(52) }),
  dep('d8', {
    commitSha: 'c-d7',
    committedAt: h(50),
    verifyingAt: h(60) - 10 * MINUTE,
    liveAt: h(60),
  }),
  dep('d9', { committedAt: h(70), failedAt: h(71), status: 'failed' }),
  dep('d10', {
    committedAt: h(160),
    verifyingAt: h(167) - 10 * MINUTE,
    liveAt: h(167),
    rolledBackAt: h(170),
    status: 'rolled_back',
  }),
  dep('d11', { committedAt: h(199), verifyingAt: h(200) - 10 * MINUTE, liveAt: h(200) }),
];

const WEEK = { from: T0, to: h(168) };

describe('doraReport over a hand-worked week', () => {
  // Shuffled: the order records arrive in must not matter.
  const report = doraReport([...history].reverse(), WEEK);

  it('counts the deployments that reached production in the window', () => {
    const frequency = report.deployment_frequency;
    expect(frequency.deployments).toBe(9);
    expect(frequency.per_day).toBeCloseTo(9 / 7, 10);
    expect(frequency.per_week).toBeCloseTo(9, 10);
    expect(frequency.band).toBe('elite');
    expect(frequency.deployment_ids).toEqual([
      'd1',
      'd2',
      'd3',
      'd4',
      'd5',
      'd6',
      'd7',
      'd8',
      'd10',
    ]);
    expect(report.window).toEqual({
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-08T00:00:00.000Z',
      days: 7,
    });
  });

  it('takes the median lead time of the commits first delivered', () => {
    expect(report.change_lead_time).toEqual({
      median_seconds: 7200,
      band: 'elite',
      deployment_ids: ['d1', 'd2', 'd4', 'd5', 'd7', 'd10'],
    });
  });

  it('counts rollbacks, failures in production and fixed deployments as failed', () => {
    expect(report.change_fail_rate).toMatchObject({
      failed: 5,
      deployments: 9,
      band: 'low',
      deployment_ids: ['d2', 'd3', 'd4', 'd6', 'd10'],
    });
    expect(report.change_fail_rate.rate).toBeCloseTo(5 / 9, 10);
    const kinds = Object.fromEntries(report.deployments.map((d) => [d.id, d.failure?.kind]));
    expect(kinds).toMatchObject({
      d2: 'rolled_back',
      d3: 'rolled_back',
      d4: 'fixed',
      d6: 'failed',
      d10: 'rolled_back',
    });
  });

  it('measures recovery by rollback or by the next good deployment', () => {
    expect(report.failed_deployment_recovery_time).toEqual({
      median_seconds: 7200,
      band: 'high',
      deployment_ids: ['d2', 'd3', 'd4', 'd6', 'd10'],
      unrecovered_ids: [],
    });
    const byId = new Map(report.deployments.map((d) => [d.id, d]));
    expect(byId.get('d3')!.failure).toEqual({
      kind: 'rolled_back',
      recovery: 'rollback',
      fixed_by: null,
      recovered_at: '2026-03-02T00:10:00.000Z',
      recovered_by: null,
      recovery_seconds: 600,
    });
    expect(byId.get('d4')!.failure).toMatchObject({
      kind: 'fixed',
      fixed_by: 'd5',
      recovery: 'roll_forward',
      recovered_by: 'd5',
      recovery_seconds: 7200,
    });
    expect(byId.get('d6')!.failure).toMatchObject({ recovered_by: 'd7', recovery_seconds: 10800 });
  });

  it('marks fix changes and deployments made during an incident as rework', () => {
    expect(report.deployment_rework_rate).toMatchObject({
      rework: 2,
      deployments: 9,
      band: null,
      deployment_ids: ['d5', 'd7'],
    });
    expect(report.deployment_rework_rate.rate).toBeCloseTo(2 / 9, 10);
    const byId = new Map(report.deployments.map((d) => [d.id, d]));
    expect(byId.get('d5')!.rework).toEqual({ reason: 'fix_change', incident: null });
    expect(byId.get('d7')!.rework).toEqual({ reason: 'during_incident', incident: 'd6' });
    expect(byId.get('d8')!.rework).toBeNull();
  });

  it('charts each day of the window', () => {
    // Day 1: d1, d2. Day 2: d3 (24 h), d4, d5: leads 6 h and 1 h → 3.5 h; recoveries 10 m and
    // 2 h → 65 m. Day 3: d6, d7, d8. Days 4–6: nothing. Day 7: d10.
    expect(
      report.series.map(({ from, to: _, ...figures }) => [from.slice(0, 10), figures]),
    ).toEqual([
      [
        '2026-03-01',
        {
          deployments: 2,
          lead_time_seconds: 7200,
          change_fail_rate: 0.5,
          recovery_seconds: 3600,
          rework_rate: 0,
        },
      ],
      [
        '2026-03-02',
        {
          deployments: 3,
          lead_time_seconds: 12600,
          change_fail_rate: 2 / 3,
          recovery_seconds: 3900,
          rework_rate: 1 / 3,
        },
      ],
      [
        '2026-03-03',
        {
          deployments: 3,
          lead_time_seconds: 7200,
          change_fail_rate: 1 / 3,
          recovery_seconds: 10800,
          rework_rate: 1 / 3,
        },
      ],
      [
        '2026-03-04',
        {
          deployments: 0,
          lead_time_seconds: null,
          change_fail_rate: null,
          recovery_seconds: null,
          rework_rate: null,
        },
      ],
      [
        '2026-03-05',
        {
          deployments: 0,
          lead_time_seconds: null,
          change_fail_rate: null,
          recovery_seconds: null,
          rework_rate: null,
        },
      ],
      [
        '2026-03-06',
        {
          deployments: 0,
          lead_time_seconds: null,
          change_fail_rate: null,
          recovery_seconds: null,
          rework_rate: null,
        },
      ],
      [
        '2026-03-07',
        {
          deployments: 1,
          lead_time_seconds: 25200,
          change_fail_rate: 1,
          recovery_seconds: 10800,
          rework_rate: 0,
        },
      ],
    ]);
  });
});

describe('doraReport edge cases', () => {
  it('leaves an unrecovered failure open and out of the median', () => {
    // e1 live at 1 h; e2 failed at 5 h with nothing after it: failed, never recovered.
    const report = doraReport(
      [
        dep('e1', { committedAt: h(0), verifyingAt: h(1), liveAt: h(1) }),
        dep('e2', { committedAt: h(4), verifyingAt: h(5), failedAt: h(5), status: 'failed' }),
      ],
      WEEK,
    );
    expect(report.failed_deployment_recovery_time).toEqual({
      median_seconds: null,
      band: null,
      deployment_ids: [],
      unrecovered_ids: ['e2'],
    });
    expect(report.change_fail_rate.rate).toBe(0.5);
  });

  it('keeps environments apart: a failure in one is no incident for another', () => {
    // f1 fails in `other` at 1 h and is never recovered; g1 in `prod` at 2 h is planned work.
    const report = doraReport(
      [
        dep('f1', { environmentId: 'other', verifyingAt: h(1), failedAt: h(1), status: 'failed' }),
        dep('g1', { committedAt: h(1), verifyingAt: h(2), liveAt: h(2) }),
      ],
      WEEK,
    );
    expect(report.deployment_rework_rate.deployment_ids).toEqual([]);
    expect(report.change_fail_rate.deployment_ids).toEqual(['f1']);
  });

  it('has no rates, medians or bands without deployments, and charts weeks past a month', () => {
    const report = doraReport([], { from: T0, to: T0 + 90 * 24 * HOUR });
    expect(report.deployment_frequency).toMatchObject({ deployments: 0, per_day: 0, band: null });
    expect(report.change_fail_rate.rate).toBeNull();
    expect(report.change_lead_time.median_seconds).toBeNull();
    // 90 days in weeks: 12 full weeks and a last one of 6 days.
    expect(report.series).toHaveLength(13);
    expect(report.series.at(-1)).toMatchObject({ to: new Date(T0 + 90 * 24 * HOUR).toISOString() });
  });

  it('never lets a commit clock ahead of the platform make a lead time negative', () => {
    const report = doraReport(
      [dep('k1', { committedAt: h(3), verifyingAt: h(2), liveAt: h(2) })],
      WEEK,
    );
    expect(report.deployments[0]!.lead_time_seconds).toBe(0);
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
