import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { runners } from '../../db/schema';

/** The runner said hello: listed online, unless an administrator disabled it meanwhile. */
export async function markRunnerOnline(db: Database, runnerId: string): Promise<void> {
  await db
    .update(runners)
    .set({ status: 'online', lastSeenAt: new Date() })
    .where(and(eq(runners.id, runnerId), isNull(runners.disabledAt)));
}

export async function markRunnerSeen(db: Database, runnerId: string, at: Date): Promise<void> {
  await db.update(runners).set({ lastSeenAt: at }).where(eq(runners.id, runnerId));
}

/**
 * Its last connection closed; a runner already shown otherwise (disabled) stays as it is. True
 * when this moved it from online to offline.
 */
export async function markRunnerOffline(db: Database, runnerId: string, at = new Date()) {
  const moved = await db
    .update(runners)
    .set({ status: 'offline', lastSeenAt: at })
    .where(and(eq(runners.id, runnerId), eq(runners.status, 'online')))
    .returning({ id: runners.id });
  return moved.length > 0;
}
