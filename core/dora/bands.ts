/**
 * DORA's performance levels, per metric. Thresholds from the Accelerate State of DevOps Report
 * 2024 (dora.dev/research/2024/dora-report), where it gives ranges; docs/dora.md says where and
 * why Sparki had to choose a boundary.
 */
export type Band = 'elite' | 'high' | 'medium' | 'low';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Deployments per day: on demand (≥ 1 a day), daily to weekly, weekly to monthly, less. */
export function deploymentFrequencyBand(perDay: number, deployments: number): Band | null {
  if (deployments === 0) return null;
  if (perDay >= 1) return 'elite';
  if (perDay >= 1 / 7) return 'high';
  if (perDay >= 1 / 30) return 'medium';
  return 'low';
}

/** Median commit → live: under a day, under a week, under a month, more. */
export function leadTimeBand(medianMs: number | null): Band | null {
  if (medianMs === null) return null;
  if (medianMs < DAY_MS) return 'elite';
  if (medianMs < 7 * DAY_MS) return 'high';
  if (medianMs < 30 * DAY_MS) return 'medium';
  return 'low';
}

/**
 * The 2024 report's per-level change fail rates (5 %, 20 %, 10 %, 40 %) are not in order, so
 * they cannot be bounds; the 2023 report's ordered ones (5 %, 10 %, 15 %) are used as upper bounds.
 */
export function changeFailRateBand(rate: number | null): Band | null {
  if (rate === null) return null;
  if (rate <= 0.05) return 'elite';
  if (rate <= 0.1) return 'high';
  if (rate <= 0.15) return 'medium';
  return 'low';
}

/** Median recovery: under an hour, under a day, under a week, more. */
export function recoveryTimeBand(medianMs: number | null): Band | null {
  if (medianMs === null) return null;
  if (medianMs < HOUR_MS) return 'elite';
  if (medianMs < DAY_MS) return 'high';
  if (medianMs < 7 * DAY_MS) return 'medium';
  return 'low';
}
