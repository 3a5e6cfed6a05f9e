import { and, eq, inArray, isNull, lt, or } from 'drizzle-orm';
import { ACTIVE_STATES } from '../../core/deploy/state-machine';
import type { Database } from '../../db/client';
import { deployments, environments, outbox } from '../../db/schema';
import type { Metrics } from '../../platform/metrics';
import { DEPLOYMENTS_QUEUE } from '../../platform/queues';
import { recordDeploymentEnd } from '../metrics/record';
import { lockEnvironment, transitionDeployment } from './transition';

/** A deployment active this long has lost its consumer (a crash, a timeout). */
export const STALE_DEPLOYMENT_MS = 15 * 60 * 1000;

const STALE_REASON = 'the deploy engine stopped answering';

/**
 * Cron: fails deployments whose consumer died mid-way, so their environment's queue moves on,
 * and announces the environments so their next queued deployment runs. Each goes through the
 * guarded transition under its environment's lock: one that moved on or was resumed since it
 * was found stale is left as it is.
 */
export async function failStaleDeployments(db: Database, now: Date, metrics: Metrics) {
  const cutoff = new Date(now.getTime() - STALE_DEPLOYMENT_MS);
  const stale = and(
    inArray(deployments.status, ACTIVE_STATES),
    or(
      lt(deployments.startedAt, cutoff),
      // Handed back on a rate limit and never resumed (its message ran out of retries).
      and(isNull(deployments.startedAt), lt(deployments.updatedAt, cutoff)),
    ),
  );
  const found = await db
    .select({
      id: deployments.id,
      status: deployments.status,
      environmentId: deployments.environmentId,
    })
    .from(deployments)
    .where(stale);
  let failed = 0;
  for (const row of found) {
    const done = await db.transaction(async (tx) => {
      await lockEnvironment(tx, row.environmentId);
      const moved = await transitionDeployment(tx, row.id, row.status, 'failed', {
        reason: STALE_REASON,
        when: stale,
      });
      if (!moved.ok) return false;
      // A canary that died mid-way leaves production to what served before it.
      await tx
        .update(environments)
        .set({ canaryDeploymentId: null, canaryPercent: 0 })
        .where(eq(environments.canaryDeploymentId, row.id));
      await tx.insert(outbox).values({
        topic: DEPLOYMENTS_QUEUE,
        payload: { type: 'deployment.requested', environment_id: row.environmentId },
      });
      return moved.deployment;
    });
    if (!done) continue;
    failed++;
    await recordDeploymentEnd(db, metrics, done);
  }
  return failed;
}

/** The delayed message normally resumes a canary step on time; the cron steps in after this. */
const RESUME_GRACE_MS = 30_000;

/** Cron: announces environments whose paused canary step is due, in case its message was lost. */
export async function resumeDueCanaries(db: Database, now: Date) {
  const due = await db
    .selectDistinct({ environmentId: deployments.environmentId })
    .from(deployments)
    .where(
      and(
        inArray(deployments.status, ACTIVE_STATES),
        isNull(deployments.startedAt),
        lt(deployments.resumeAt, new Date(now.getTime() - RESUME_GRACE_MS)),
      ),
    );
  if (due.length === 0) return 0;
  await db.insert(outbox).values(
    due.map((row) => ({
      topic: DEPLOYMENTS_QUEUE,
      payload: { type: 'deployment.requested', environment_id: row.environmentId },
    })),
  );
  return due.length;
}
