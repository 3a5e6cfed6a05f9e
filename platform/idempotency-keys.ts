import { and, eq, lt, lte, or } from 'drizzle-orm';
import { IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_TTL_MS } from '../core/idempotency';
import type { Database } from '../db/client';
import { type IdempotencyKey, idempotencyKeys } from '../db/schema';

/** The answer kept for replay under a key. */
export interface StoredResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/**
 * Inserts an in-progress row for (scope, key), or takes over one that expired or whose request
 * died (lease passed). Returns the row id when this request owns the key.
 */
export async function claimIdempotencyKey(
  db: Database,
  scope: string,
  key: string,
  requestHash: string,
): Promise<string | undefined> {
  const now = new Date();
  const fresh = {
    requestHash,
    status: 'in_progress' as const,
    responseStatus: null,
    responseBody: null,
    responseHeaders: null,
    expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
    createdAt: now,
  };
  const [row] = await db
    .insert(idempotencyKeys)
    .values({ scope, key, ...fresh })
    .onConflictDoUpdate({
      target: [idempotencyKeys.scope, idempotencyKeys.key],
      set: fresh,
      setWhere: or(
        lte(idempotencyKeys.expiresAt, now),
        and(
          eq(idempotencyKeys.status, 'in_progress'),
          lt(idempotencyKeys.createdAt, new Date(now.getTime() - IDEMPOTENCY_LEASE_MS)),
        ),
      ),
    })
    .returning({ id: idempotencyKeys.id });
  return row?.id;
}

export async function findIdempotencyKey(
  db: Database,
  scope: string,
  key: string,
): Promise<IdempotencyKey | undefined> {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
  return row;
}

/** Gives a claimed key up, so that the next request with it runs afresh. */
export async function releaseIdempotencyKey(db: Database, id: string): Promise<void> {
  await db.delete(idempotencyKeys).where(eq(idempotencyKeys.id, id));
}

export async function completeIdempotencyKey(
  db: Database,
  id: string,
  response: StoredResponse,
): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({
      status: 'completed',
      responseStatus: response.status,
      responseBody: response.body,
      responseHeaders: response.headers,
    })
    .where(eq(idempotencyKeys.id, id));
}

/** Cron housekeeping: expired keys are dead weight (a new request overwrites them anyway). */
export async function deleteExpiredIdempotencyKeys(db: Database, now: Date): Promise<number> {
  const result = await db.delete(idempotencyKeys).where(lte(idempotencyKeys.expiresAt, now));
  return result.rowCount ?? 0;
}
