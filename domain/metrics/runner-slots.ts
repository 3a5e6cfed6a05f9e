import { count, eq, inArray, sql, sum } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { builds, runners } from '../../db/schema';
import { ACTIVE_STATUSES } from '../builds/statuses';

export interface WorkspaceSlots {
  workspaceId: string;
  online: number;
  capacity: number;
  busy: number;
}

/**
 * Per workspace with an online runner: how many are online, their slots, and how many of those
 * slots run a build now. Read from Postgres, where leases are recorded (`builds.runner_id` of a
 * running build), so every isolate and the RunnerHubs agree without a copy to keep in step.
 */
export async function runnerSlotsByWorkspace(db: Database): Promise<WorkspaceSlots[]> {
  const busy = db
    .select({ runnerId: builds.runnerId, running: count().as('running') })
    .from(builds)
    .where(eq(builds.status, 'running'))
    .groupBy(builds.runnerId)
    .as('busy');
  const rows = await db
    .select({
      workspaceId: runners.workspaceId,
      online: count(),
      capacity: sum(runners.capacity).mapWith(Number),
      busy: sql<number>`coalesce(sum(${busy.running}), 0)`.mapWith(Number),
    })
    .from(runners)
    .leftJoin(busy, eq(busy.runnerId, runners.id))
    .where(eq(runners.status, 'online'))
    .groupBy(runners.workspaceId);
  return rows.map((row) => ({ ...row, capacity: row.capacity ?? 0 }));
}

/** Registered runners by status. */
export async function runnersByStatus(db: Database) {
  return db.select({ status: runners.status, n: count() }).from(runners).groupBy(runners.status);
}

/** Builds not finished yet, by status. */
export async function activeBuildsByStatus(db: Database) {
  return db
    .select({ status: builds.status, n: count() })
    .from(builds)
    .where(inArray(builds.status, [...ACTIVE_STATUSES]))
    .groupBy(builds.status);
}
