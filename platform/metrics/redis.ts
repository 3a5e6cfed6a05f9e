import type { Redis } from '@upstash/redis/cloudflare';
import type { MetricEvent } from '../../core/metrics/events';
import { observationsOf } from '../../core/metrics/observations';
import { changesOf } from '../../core/metrics/store-fields';
import type { Logger } from '../logger';
import type { Metrics } from './metrics';

/** One hash holds every counter and histogram (core/metrics/store-fields.ts has its fields). */
export const METRICS_HASH_KEY = 'sparki:metrics:v1';

/**
 * Local and self-hosted: counters and histograms in Redis, shared by every Worker isolate, the
 * Durable Objects and the queue consumers, for the Prometheus endpoint to read. One pipelined
 * round trip per event.
 */
export function redisMetrics(redis: Redis, logger: Logger): Metrics {
  const inFlight = new Set<Promise<void>>();
  return {
    record(event: MetricEvent) {
      const changes = observationsOf(event).flatMap(changesOf);
      if (changes.length === 0) return;
      const pipeline = redis.pipeline();
      for (const { field, by, float } of changes) {
        if (float) pipeline.hincrbyfloat(METRICS_HASH_KEY, field, by);
        else pipeline.hincrby(METRICS_HASH_KEY, field, by);
      }
      const write = pipeline
        .exec()
        .then(() => undefined)
        .catch((error: unknown) => logger.warn('metric_not_written', { event: event.type, error }))
        .finally(() => inFlight.delete(write));
      inFlight.add(write);
    },
    async flush() {
      await Promise.all(inFlight);
    },
  };
}

/** Every stored field and its value, as the exposition reads them. */
export async function readStoredMetrics(redis: Redis): Promise<Record<string, unknown>> {
  return (await redis.hgetall<Record<string, unknown>>(METRICS_HASH_KEY)) ?? {};
}
