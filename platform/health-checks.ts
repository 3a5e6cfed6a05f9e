import { sql } from 'drizzle-orm';
import type { Services } from './services';

export type CheckStatus = 'ok' | 'down' | 'absent';

export interface CheckResult {
  status: CheckStatus;
  latency_ms: number;
  error?: string;
  degrades?: string;
}

const CHECK_TIMEOUT_MS = 3_000;

export const REDIS_ABSENT_DEGRADES =
  'rate limits and API quotas are off (idempotency keys and WebSocket tickets live in Postgres and keep working)';

async function timed(probe: () => Promise<unknown>): Promise<CheckResult> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([probe(), timeout]);
    return { status: 'ok', latency_ms: Date.now() - started };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { status: 'down', latency_ms: Date.now() - started, error };
  } finally {
    clearTimeout(timer);
  }
}

async function probeBuckets(buckets: R2Bucket[]) {
  await Promise.all(buckets.map((bucket) => bucket.head('.sparki-readyz')));
}

async function probeQueues(queues: Queue[]) {
  for (const queue of queues) {
    // Sending would enqueue real work; a bound producer is all that can be checked without side effects.
    if (typeof queue?.send !== 'function') throw new Error('queue binding missing');
  }
}

export async function runReadinessChecks(env: Env, services: Services) {
  const redis = services.redis;
  const [postgres, redisResult, r2, queues] = await Promise.all([
    timed(() => services.db().execute(sql`select 1`)),
    redis
      ? timed(() => redis.ping())
      : Promise.resolve<CheckResult>({
          status: 'absent',
          latency_ms: 0,
          degrades: REDIS_ABSENT_DEGRADES,
        }),
    timed(() => probeBuckets([env.ARTIFACTS, env.LOGS, env.SITES])),
    timed(() => probeQueues([env.BUILDS_QUEUE, env.DEPLOYMENTS_QUEUE, env.NOTIFICATIONS_QUEUE])),
  ]);
  return { postgres, redis: redisResult, r2, queues };
}
