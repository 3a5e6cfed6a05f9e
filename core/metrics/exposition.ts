import { METRICS, type MetricSpec } from './catalog';
import type { Labels } from './observations';
import { decodeField } from './store-fields';

/** A gauge's value as read at scrape time. */
export interface GaugeSample {
  spec: MetricSpec;
  labels: Labels;
  value: number;
}

interface Histogram {
  labels: Labels;
  /** Observations per stored bucket bound (not cumulative). */
  bounds: Map<number, number>;
  sum: number;
}

interface Collected {
  counters: Map<string, { labels: Labels; value: number }>;
  histograms: Map<string, Histogram>;
}

const escapeLabel = (value: string) =>
  value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
const escapeHelp = (value: string) => value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
  if (pairs.length === 0) return '';
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',')}}`;
}

const seriesKey = (name: string, labels: Labels) => `${name}${formatLabels(labels)}`;

/** Sorts the stored hash (field → value, as HGETALL answers) into counters and histograms. */
function collect(stored: Record<string, unknown>): Collected {
  const counters: Collected['counters'] = new Map();
  const histograms: Collected['histograms'] = new Map();
  for (const [field, raw] of Object.entries(stored)) {
    const decoded = decodeField(field);
    const value = Number(raw);
    if (!decoded || !Number.isFinite(value)) continue;
    const key = seriesKey(decoded.name, decoded.labels);
    if (decoded.part === 'c') {
      counters.set(key, { labels: decoded.labels, value });
      continue;
    }
    let histogram = histograms.get(key);
    if (!histogram) {
      histogram = { labels: decoded.labels, bounds: new Map(), sum: 0 };
      histograms.set(key, histogram);
    }
    if (decoded.part === 's') histogram.sum = value;
    else histogram.bounds.set(decoded.le, (histogram.bounds.get(decoded.le) ?? 0) + value);
  }
  return { counters, histograms };
}

/**
 * A histogram's lines. Stored bounds are folded into the current buckets (a count stored under
 * a bound that is no longer one lands in the next bucket up), so changing the buckets never
 * makes a cumulative count go down within a bucket that stayed.
 */
function histogramLines(spec: MetricSpec, histogram: Histogram): string[] {
  const stored = [...histogram.bounds.entries()];
  const count = stored.reduce((total, [, n]) => total + n, 0);
  const lines = (spec.buckets ?? []).map((le) => {
    const below = stored.reduce((total, [bound, n]) => (bound <= le ? total + n : total), 0);
    return `${spec.name}_bucket${formatLabels({ ...histogram.labels, le: formatNumber(le) })} ${below}`;
  });
  lines.push(`${spec.name}_bucket${formatLabels({ ...histogram.labels, le: '+Inf' })} ${count}`);
  lines.push(`${spec.name}_sum${formatLabels(histogram.labels)} ${formatNumber(histogram.sum)}`);
  lines.push(`${spec.name}_count${formatLabels(histogram.labels)} ${count}`);
  return lines;
}

function byKey<T>(entries: Map<string, T>, name: string): T[] {
  return [...entries.entries()]
    .filter(([key]) => key === name || key.startsWith(`${name}{`))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, value]) => value);
}

/**
 * The Prometheus text exposition (format 0.0.4) of the stored counters and histograms and the
 * gauges read at scrape time, every metric of the catalog with its HELP and TYPE, in catalog
 * order. Stored fields of metrics no longer in the catalog are skipped.
 */
export function formatExposition(stored: Record<string, unknown>, gauges: GaugeSample[]): string {
  const { counters, histograms } = collect(stored);
  const out: string[] = [];
  for (const spec of Object.values(METRICS) as MetricSpec[]) {
    out.push(`# HELP ${spec.name} ${escapeHelp(spec.help)}`, `# TYPE ${spec.name} ${spec.kind}`);
    if (spec.kind === 'counter') {
      for (const { labels, value } of byKey(counters, spec.name)) {
        out.push(`${spec.name}${formatLabels(labels)} ${formatNumber(value)}`);
      }
    } else if (spec.kind === 'histogram') {
      for (const histogram of byKey(histograms, spec.name)) {
        out.push(...histogramLines(spec, histogram));
      }
    } else {
      const samples = gauges
        .filter((sample) => sample.spec.name === spec.name)
        .sort((a, b) => (formatLabels(a.labels) < formatLabels(b.labels) ? -1 : 1));
      for (const sample of samples) {
        out.push(`${spec.name}${formatLabels(sample.labels)} ${formatNumber(sample.value)}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
