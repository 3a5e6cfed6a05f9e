import type { Redis } from '@upstash/redis/cloudflare';
import { METRICS } from '../../core/metrics/catalog';
import { formatExposition, type GaugeSample } from '../../core/metrics/exposition';
import type { Database } from '../../db/client';
import { readStoredMetrics } from '../../platform/metrics/redis';
import { activeBuildsByStatus, runnerSlotsByWorkspace, runnersByStatus } from './runner-slots';

/** Gauges of what is true now, read from the records at scrape time. */
async function currentGauges(db: Database): Promise<GaugeSample[]> {
  const [slots, runnerRows, buildRows] = await Promise.all([
    runnerSlotsByWorkspace(db),
    runnersByStatus(db),
    activeBuildsByStatus(db),
  ]);
  const capacity = slots.reduce((total, row) => total + row.capacity, 0);
  const busy = slots.reduce((total, row) => total + row.busy, 0);
  return [
    ...runnerRows.map((row) => ({
      spec: METRICS.runners,
      labels: { status: row.status },
      value: row.n,
    })),
    { spec: METRICS.runnerSlots, labels: { state: 'total' }, value: capacity },
    { spec: METRICS.runnerSlots, labels: { state: 'busy' }, value: busy },
    { spec: METRICS.runnerUtilisation, labels: {}, value: capacity === 0 ? 0 : busy / capacity },
    ...buildRows.map((row) => ({
      spec: METRICS.buildsActive,
      labels: { status: row.status },
      value: row.n,
    })),
  ];
}

/**
 * The Prometheus text for a scrape: the counters and histograms events left in Redis, and the
 * gauges read from Postgres now. Without Redis only the gauges are there.
 */
export async function prometheusText(db: Database, redis: Redis | null): Promise<string> {
  const [stored, gauges] = await Promise.all([
    redis ? readStoredMetrics(redis) : {},
    currentGauges(db),
  ]);
  return formatExposition(stored, gauges);
}
