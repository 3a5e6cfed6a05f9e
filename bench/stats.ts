/**
 * The bench's arithmetic, kept pure so a node test checks it: percentiles by nearest rank (the
 * smallest sample with at least q of the samples at or below it), and every figure as a ratio
 * against a baseline measured in the same run, since a loaded machine moves both alike.
 */

/** Nearest-rank percentile, `q` in [0, 1]; NaN for no samples. */
export function percentile(samples: readonly number[], q: number): number {
  if (q < 0 || q > 1) throw new RangeError(`percentile ${q} is outside [0, 1]`);
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  return {
    n,
    p50: percentile(samples, 0.5),
    p95: percentile(samples, 0.95),
    p99: percentile(samples, 0.99),
    max: n ? Math.max(...samples) : Number.NaN,
    mean: n ? samples.reduce((sum, value) => sum + value, 0) / n : Number.NaN,
  };
}

/**
 * How many times the baseline a value is (2 = twice the baseline's time, or twice its
 * throughput). Null when the baseline is zero or missing: there is nothing to divide by.
 */
export function ratio(value: number, baseline: number): number | null {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return null;
  return value / baseline;
}

/** `12.3x`, `0.45x`, or `n/a`. */
export function formatRatio(value: number | null): string {
  if (value === null) return 'n/a';
  return `${value >= 10 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toFixed(2)}x`;
}

/** Milliseconds with the precision that matters at their size. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/**
 * Latencies counted in fixed buckets instead of kept one by one: a crowd of viewers records
 * millions of them, and pushing and sorting that many would load the process whose delays are
 * being measured. Percentiles are by nearest rank, exact to one bucket (`resolutionMs`); a value
 * beyond `maxMs` counts in the last bucket.
 */
export class Histogram {
  private readonly counts: Uint32Array;
  count = 0;

  constructor(
    private readonly resolutionMs = 0.1,
    maxMs = 120_000,
  ) {
    this.counts = new Uint32Array(Math.ceil(maxMs / resolutionMs) + 1);
  }

  add(ms: number): void {
    const bucket = Math.min(
      Math.max(0, Math.round(ms / this.resolutionMs)),
      this.counts.length - 1,
    );
    this.counts[bucket]!++;
    this.count++;
  }

  percentile(q: number): number {
    if (q < 0 || q > 1) throw new RangeError(`percentile ${q} is outside [0, 1]`);
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i * this.resolutionMs;
    }
    return (this.counts.length - 1) * this.resolutionMs;
  }
}
