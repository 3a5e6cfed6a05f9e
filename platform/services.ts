import type { Redis } from '@upstash/redis/cloudflare';
import { createDb, type Database, type DbHandle } from '../db/client';
import { type Config, parseConfig } from './config';
import { ApiError } from './errors';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { redisClient } from './redis-client';

export interface Services {
  config: Config;
  /** Opens the request's Postgres pool on first use; it is closed after the response. */
  db(): Database;
  /** Null when no Redis is configured: rate limits and caches are then off. */
  redis: Redis | null;
  /** Where events are reported (platform/metrics): Analytics Engine and/or Redis, or nowhere. */
  metrics: Metrics;
}

/** What work outside a request (a queue message, a cron tick) runs with. */
export interface TaskContext {
  env: Env;
  services: Services;
  logger: Logger;
}

export interface ScopedServices {
  services: Services;
  /** Ends the Postgres pool if one was opened and lets metric writes land; pass to `ctx.waitUntil`. */
  close(): Promise<void>;
}

const parsedConfigs = new WeakMap<Env, ReturnType<typeof parseConfig>>();

/**
 * The configuration of `env`, parsed once per isolate: the bindings do not change while it
 * lives, and checking some thirty variables with zod cost CPU on every request.
 * Frozen, since every request shares it.
 */
function configOf(env: Env) {
  let parsed = parsedConfigs.get(env);
  if (!parsed) {
    parsed = parseConfig(env as unknown as Record<string, unknown>);
    if (parsed.ok) Object.freeze(parsed.config);
    parsedConfigs.set(env, parsed);
  }
  return parsed;
}

/** Per-request (or per-batch) services; throws a `misconfigured` error naming what is missing. */
export function createServices(env: Env): ScopedServices {
  const parsed = configOf(env);
  if (!parsed.ok) {
    throw new ApiError('misconfigured', 'The server is missing required configuration', {
      fields: parsed.fields,
    });
  }
  const { config } = parsed;
  let handle: DbHandle | undefined;
  const redis =
    config.UPSTASH_REDIS_REST_URL && config.UPSTASH_REDIS_REST_TOKEN
      ? redisClient(config.UPSTASH_REDIS_REST_URL, config.UPSTASH_REDIS_REST_TOKEN)
      : null;
  const metrics = createMetrics(
    { ...config, METRICS: env.METRICS },
    createLogger({ component: 'metrics' }, config.LOG_LEVEL),
  );
  return {
    services: {
      config,
      metrics,
      db() {
        handle ??= createDb(config.DATABASE_URL, {
          wsProxy: config.NEON_WS_PROXY,
          pipelineConnect: config.NEON_PIPELINE_CONNECT,
        });
        return handle.db;
      },
      redis,
    },
    close: async () => {
      await Promise.all([handle?.pool.end(), metrics.flush()]);
    },
  };
}
