import { and, asc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { type OutboxMessage, outbox } from '../db/schema';
import { BUILDS_QUEUE, DEPLOYMENTS_QUEUE, NOTIFICATIONS_QUEUE } from '../platform/queues';

export function queueForTopic(env: Env, topic: string): Queue | undefined {
  const queues: Record<string, Queue> = {
    [BUILDS_QUEUE]: env.BUILDS_QUEUE,
    [DEPLOYMENTS_QUEUE]: env.DEPLOYMENTS_QUEUE,
    [NOTIFICATIONS_QUEUE]: env.NOTIFICATIONS_QUEUE,
  };
  return queues[topic];
}

/** Sends outbox rows to their queues and marks each sent one; failures are counted, kept for later. */
export async function publishOutbox(
  env: Env,
  db: Database,
  rows: OutboxMessage[],
): Promise<{ published: number; failed: number }> {
  let published = 0;
  for (const row of rows) {
    try {
      const queue = queueForTopic(env, row.topic);
      if (!queue) throw new Error(`Unknown outbox topic ${row.topic}`);
      await queue.send(row.payload);
      await db.update(outbox).set({ publishedAt: new Date() }).where(eq(outbox.id, row.id));
      published++;
    } catch (err) {
      await db
        .update(outbox)
        .set({
          attempts: sql`${outbox.attempts} + 1`,
          lastError: err instanceof Error ? err.message : String(err),
        })
        .where(eq(outbox.id, row.id));
    }
  }
  return { published, failed: rows.length - published };
}

/** Rows younger than this are left to the publish-right-after-commit path. */
export const RELAY_GRACE_MS = 10_000;
const RELAY_BATCH = 100;

/** The cron relay: republishes whatever commit-time publishing left unsent. */
export async function relayOutbox(env: Env, db: Database, now = new Date()) {
  const rows = await db
    .select()
    .from(outbox)
    .where(
      and(
        isNull(outbox.publishedAt),
        lt(outbox.createdAt, new Date(now.getTime() - RELAY_GRACE_MS)),
      ),
    )
    .orderBy(asc(outbox.createdAt))
    .limit(RELAY_BATCH);
  return publishOutbox(env, db, rows);
}
