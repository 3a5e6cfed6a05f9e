import { describe, expect, it } from 'vitest';
import { markdownTable } from '../../bench/report';
import { formatRatio, Histogram, percentile, ratio, summarize } from '../../bench/stats';

describe("the bench's statistics", () => {
  it('takes percentiles by nearest rank, whatever the order of the samples', () => {
    const samples = [7, 1, 10, 3, 9, 2, 8, 5, 4, 6];
    expect(percentile(samples, 0.5)).toBe(5);
    expect(percentile(samples, 0.95)).toBe(10);
    expect(percentile(samples, 0.9)).toBe(9);
    expect(percentile(samples, 0.1)).toBe(1);
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile(samples, 1)).toBe(10);
    // 100 samples 1..100: p99 is the 99th, p95 the 95th.
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 0.95)).toBe(95);
    expect(samples[0]).toBe(7);
  });

  it('has no percentile of nothing and refuses a quantile outside [0, 1]', () => {
    expect(percentile([], 0.5)).toBeNaN();
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
  });

  it('takes the same percentiles from a histogram, to one bucket', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) / 3);
    const histogram = new Histogram(0.1, 1000);
    for (const sample of samples) histogram.add(sample);
    expect(histogram.count).toBe(1000);
    for (const q of [0, 0.5, 0.95, 0.99, 1]) {
      expect(Math.abs(histogram.percentile(q) - percentile(samples, q))).toBeLessThanOrEqual(0.05);
    }
    // Values beyond the range count in the last bucket.
    for (let i = 0; i < 1000; i++) histogram.add(5000);
    expect(histogram.count).toBe(2000);
    expect(histogram.percentile(0.5)).toBeCloseTo(percentile(samples, 1), 1);
    expect(histogram.percentile(0.51)).toBe(1000);
    expect(new Histogram().percentile(0.5)).toBeNaN();
    expect(() => histogram.percentile(-0.1)).toThrow(RangeError);
  });

  it('summarizes samples', () => {
    expect(summarize([4, 2, 6, 8])).toEqual({ n: 4, p50: 4, p95: 8, p99: 8, max: 8, mean: 5 });
  });

  it('states a figure as a ratio of its baseline, and none against zero', () => {
    expect(ratio(1017, 1.3)).toBeCloseTo(782.3, 1);
    expect(ratio(77, 339)).toBeCloseTo(0.227, 3);
    expect(ratio(5, 0)).toBeNull();
    expect(ratio(Number.NaN, 3)).toBeNull();
    expect(formatRatio(782.3)).toBe('782x');
    expect(formatRatio(2.34)).toBe('2.3x');
    expect(formatRatio(0.227)).toBe('0.23x');
    expect(formatRatio(null)).toBe('n/a');
  });

  it('writes each figure as a table row beside its baseline and ratio', () => {
    const table = markdownTable({
      updated_at: '2026-11-24T10:00:00.000Z',
      machine: { cpus: 2, model: 'cpu', node: 'v24.0.0', load_at_start: [3.1, 2.5, 2] },
      figures: [
        {
          section: 'a',
          name: 'webhook sent → runner has the job, p95',
          unit: 'ms',
          value: 40,
          baseline: { name: 'loopback', value: 2 },
          ratio: 20,
          measured_at: '2026-11-24T10:00:00.000Z',
        },
      ],
    });
    expect(table).toContain('load average at start 3.1 / 2.5 / 2');
    expect(table).toContain(
      '| a | webhook sent → runner has the job, p95 | 40.0 ms | loopback: 2.00 ms | 20x |',
    );
  });
});
