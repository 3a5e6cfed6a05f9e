import { describe, expect, it } from 'vitest';
import { dataPointOf } from './analytics';
import { METRICS } from './catalog';
import { formatExposition } from './exposition';
import { observationsOf, stepLabel } from './observations';
import { bucketOf, changesOf, decodeField } from './store-fields';

/** Applies changes as Redis would (HINCRBY / HINCRBYFLOAT on one hash). */
function store(events: Parameters<typeof observationsOf>[0][]) {
  const hash: Record<string, number> = {};
  for (const event of events) {
    for (const observation of observationsOf(event)) {
      for (const change of changesOf(observation)) {
        hash[change.field] = (hash[change.field] ?? 0) + change.by;
      }
    }
  }
  return hash;
}

const request = (route: string, status: number, seconds: number) =>
  ({ type: 'http_request', method: 'GET', route, status, seconds }) as const;

describe('buckets', () => {
  it('puts a value in the first bucket whose bound is not below it, else +Inf', () => {
    expect(bucketOf([0.1, 0.5, 1], 0)).toBe(0.1);
    expect(bucketOf([0.1, 0.5, 1], 0.1)).toBe(0.1);
    expect(bucketOf([0.1, 0.5, 1], 0.10001)).toBe(0.5);
    expect(bucketOf([0.1, 0.5, 1], 1)).toBe(1);
    expect(bucketOf([0.1, 0.5, 1], 7)).toBe(Number.POSITIVE_INFINITY);
  });

  it('every histogram has ascending buckets', () => {
    for (const spec of Object.values(METRICS)) {
      if (spec.kind !== 'histogram') continue;
      const buckets = [...spec.buckets];
      expect(buckets, spec.name).toEqual([...buckets].sort((a, b) => a - b));
      expect(new Set(buckets).size).toBe(buckets.length);
    }
  });

  it('a histogram observation is one bucket increment and the sum; negative durations count as 0', () => {
    const [bucket, sum] = changesOf({
      spec: METRICS.buildQueueWait,
      labels: {},
      value: -3,
    });
    expect(decodeField(bucket!.field)).toEqual({
      part: 'b',
      name: 'sparki_build_queue_wait_seconds',
      labels: {},
      le: 0.05,
    });
    expect(sum).toMatchObject({ by: 0, float: true });
  });

  it('stored fields read back, label order aside; foreign fields are ignored', () => {
    const a = changesOf({
      spec: METRICS.rollbacks,
      labels: { stage: 'production', kind: 'manual' },
      value: 1,
    });
    const b = changesOf({
      spec: METRICS.rollbacks,
      labels: { kind: 'manual', stage: 'production' },
      value: 1,
    });
    expect(a[0]!.field).toBe(b[0]!.field);
    expect(decodeField('not json')).toBeUndefined();
    expect(decodeField('["x","n",{}]')).toBeUndefined();
    expect(decodeField('["b","n",{},"1"]')).toBeUndefined();
    expect(decodeField('["c","n",{"a":1}]')).toBeUndefined();
  });
});

describe('observations', () => {
  it('keeps tenant ids out of the labels', () => {
    const [observation] = observationsOf({
      type: 'build_finished',
      result: 'failed',
      projectId: 'p',
      workspaceId: 'w',
      seconds: 3,
    });
    expect(observation!.labels).toEqual({ result: 'failed' });
  });

  it('names steps Sparki plans, and only those', () => {
    expect(stepLabel('Install dependencies')).toBe('install');
    expect(stepLabel('Build')).toBe('build');
    expect(stepLabel('rm -rf / # my step')).toBe('other');
  });
});

describe('exposition', () => {
  const linesOf = (text: string, name: string) =>
    text.split('\n').filter((line) => line.startsWith(name));

  it('prints cumulative buckets, +Inf, sum and count per label set', () => {
    const text = formatExposition(
      store([
        request('/api/projects/:id', 200, 0.004),
        request('/api/projects/:id', 200, 0.02),
        request('/api/projects/:id', 200, 0.3),
        request('/api/projects/:id', 200, 99),
        request('/healthz', 200, 0.001),
      ]),
      [],
    );
    const series = 'method="GET",route="/api/projects/:id",status="200"';
    expect(
      linesOf(text, 'sparki_http_request_duration_seconds').filter((l) => l.includes(series)),
    ).toEqual([
      ...[
        ['0.005', 1],
        ['0.01', 1],
        ['0.025', 2],
        ['0.05', 2],
        ['0.1', 2],
        ['0.25', 2],
        ['0.5', 3],
        ['1', 3],
        ['2.5', 3],
        ['5', 3],
        ['10', 3],
        ['30', 3],
        ['+Inf', 4],
      ].map(([le, n]) => `sparki_http_request_duration_seconds_bucket{le="${le}",${series}} ${n}`),
      `sparki_http_request_duration_seconds_sum{${series}} 99.324`,
      `sparki_http_request_duration_seconds_count{${series}} 4`,
    ]);
    expect(text).toContain(
      'sparki_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1',
    );
  });

  it('prints counters and gauges with HELP and TYPE', () => {
    const text = formatExposition(
      store([
        { type: 'webhook_delivery', provider: 'github', outcome: 'queued' },
        { type: 'webhook_delivery', provider: 'github', outcome: 'queued' },
        { type: 'webhook_delivery', provider: 'gitlab', outcome: 'rejected' },
      ]),
      [{ spec: METRICS.runnerUtilisation, labels: {}, value: 0.5 }],
    );
    expect(linesOf(text, '# TYPE sparki_webhook')).toEqual([
      '# TYPE sparki_webhook_deliveries_total counter',
    ]);
    expect(linesOf(text, 'sparki_webhook_deliveries_total')).toEqual([
      'sparki_webhook_deliveries_total{outcome="queued",provider="github"} 2',
      'sparki_webhook_deliveries_total{outcome="rejected",provider="gitlab"} 1',
    ]);
    expect(linesOf(text, 'sparki_runner_utilisation_ratio')).toEqual([
      'sparki_runner_utilisation_ratio 0.5',
    ]);
  });

  it('declares every metric, in catalog order, even before anything happened', () => {
    const text = formatExposition({}, []);
    expect(linesOf(text, '# TYPE').map((line) => line.split(' ')[2])).toEqual(
      Object.values(METRICS).map((spec) => spec.name),
    );
    expect(text.split('\n').filter((line) => line && !line.startsWith('#'))).toEqual([]);
  });

  it('escapes label values and help text', () => {
    const text = formatExposition(store([request('/a"b\\c\nd', 404, 0.1)]), []);
    expect(text).toContain('route="/a\\"b\\\\c\\nd"');
    expect(text.split('\n').every((line) => !line.includes('\r'))).toBe(true);
  });

  it('folds counts stored under an old bucket bound into the next bucket up', () => {
    const field = JSON.stringify(['b', METRICS.buildQueueWait.name, {}, 0.07]);
    const text = formatExposition({ [field]: '2' }, []);
    expect(text).toContain('sparki_build_queue_wait_seconds_bucket{le="0.05"} 0');
    expect(text).toContain('sparki_build_queue_wait_seconds_bucket{le="0.1"} 2');
    expect(text).toContain('sparki_build_queue_wait_seconds_count 2');
  });
});

describe('Analytics Engine data points', () => {
  it('index the event type and put fields where the documented schema says', () => {
    expect(
      dataPointOf({
        type: 'deployment_finished',
        result: 'live',
        stage: 'production',
        platform: 'edge',
        seconds: 1.5,
        projectId: 'p',
        workspaceId: 'w',
      }),
    ).toEqual({
      indexes: ['deployment_finished'],
      blobs: ['live', 'edge', 'production', 'w', 'p'],
      doubles: [1.5],
    });
    expect(
      dataPointOf({
        type: 'runner_utilisation',
        workspaceId: 'w',
        busy: 1,
        capacity: 4,
        online: 2,
      }),
    ).toEqual({
      indexes: ['runner_utilisation'],
      blobs: ['', '', '', 'w', ''],
      doubles: [0.25, 1, 4, 2],
    });
    expect(dataPointOf(request('/x', 500, 0.2))).toEqual({
      indexes: ['http_request'],
      blobs: ['500', '/x', 'GET', '', ''],
      doubles: [0.2, 500],
    });
  });
});
