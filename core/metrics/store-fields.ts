import type { Labels, Observation } from './observations';

/**
 * How series live in one Redis hash: each field is a JSON array naming the part it holds, so
 * every change is a single HINCRBY / HINCRBYFLOAT and a scrape is one HGETALL.
 * - `["c", name, labels]`: a counter's value;
 * - `["b", name, labels, le]`: how many observations fell in the bucket ending at `le` (not
 *   cumulative: one increment per observation, summed at exposition);
 * - `["s", name, labels]`: the sum of a histogram's observations.
 */
export type StoredField =
  | { part: 'c'; name: string; labels: Labels }
  | { part: 'b'; name: string; labels: Labels; le: number }
  | { part: 's'; name: string; labels: Labels };

export interface FieldChange {
  field: string;
  by: number;
  /** HINCRBYFLOAT instead of HINCRBY. */
  float: boolean;
}

function sortedLabels(labels: Labels): Labels {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The bucket an observation falls in: the first upper bound not below it, or +Inf. */
export function bucketOf(buckets: readonly number[], value: number): number {
  return buckets.find((le) => value <= le) ?? Number.POSITIVE_INFINITY;
}

function encode(field: StoredField): string {
  const labels = sortedLabels(field.labels);
  if (field.part === 'b') {
    const le = Number.isFinite(field.le) ? field.le : '+Inf';
    return JSON.stringify([field.part, field.name, labels, le]);
  }
  return JSON.stringify([field.part, field.name, labels]);
}

/** The hash changes one observation makes. */
export function changesOf({ spec, labels, value }: Observation): FieldChange[] {
  const { name } = spec;
  if (spec.kind === 'counter') {
    return [{ field: encode({ part: 'c', name, labels }), by: value, float: false }];
  }
  if (spec.kind !== 'histogram') return [];
  // A negative duration is clock skew between machines; it counts as zero.
  const seconds = Math.max(0, value);
  return [
    {
      field: encode({ part: 'b', name, labels, le: bucketOf(spec.buckets ?? [], seconds) }),
      by: 1,
      float: false,
    },
    { field: encode({ part: 's', name, labels }), by: seconds, float: true },
  ];
}

const isLabels = (value: unknown): value is Labels =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.values(value).every((v) => typeof v === 'string');

/** A stored field read back; undefined for anything this version does not write. */
export function decodeField(field: string): StoredField | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(field);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || typeof parsed[1] !== 'string' || !isLabels(parsed[2])) {
    return undefined;
  }
  const [part, name, labels, le] = parsed as [unknown, string, Labels, unknown];
  if (part === 'c' || part === 's') return { part, name, labels };
  if (part !== 'b') return undefined;
  if (le === '+Inf') return { part, name, labels, le: Number.POSITIVE_INFINITY };
  return typeof le === 'number' ? { part, name, labels, le } : undefined;
}
