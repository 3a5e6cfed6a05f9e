import type { Redis } from '@upstash/redis/cloudflare';
import type { Logger } from '../logger';
import { redisClient } from '../redis-client';
import { analyticsEngineMetrics } from './analytics-engine';
import { fanOut, type Metrics } from './metrics';
import { redisMetrics } from './redis';

export type { Metrics } from './metrics';
export { noMetrics } from './metrics';

/** What choosing the backends reads: the binding and three variables, not the whole config. */
export interface MetricsEnv {
  METRICS?: AnalyticsEngineDataset;
  METRICS_TOKEN?: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
}

/** The Redis the Prometheus endpoint reads, when it is on: a token is set and Redis is there. */
export function metricsRedis(env: MetricsEnv): Redis | null {
  if (!env.METRICS_TOKEN || !env.UPSTASH_REDIS_REST_URL || !env.UPSTASH_REDIS_REST_TOKEN) {
    return null;
  }
  return redisClient(env.UPSTASH_REDIS_REST_URL, env.UPSTASH_REDIS_REST_TOKEN);
}

/**
 * The backends this deployment has: Analytics Engine when the `METRICS` dataset is bound, and
 * Redis when the Prometheus endpoint is on (`METRICS_TOKEN` set, Redis configured): nobody could
 * read counters kept without it, so none are written. Both may be on (a self-hosted operator who
 * also binds the dataset); with neither, events go nowhere.
 */
export function createMetrics(env: MetricsEnv, logger: Logger): Metrics {
  const redis = metricsRedis(env);
  return fanOut([
    ...(env.METRICS ? [analyticsEngineMetrics(env.METRICS, logger)] : []),
    ...(redis ? [redisMetrics(redis, logger)] : []),
  ]);
}
