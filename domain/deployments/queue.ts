import { and, asc, eq, inArray, lt } from 'drizzle-orm';
import {
  ACTIVE_STATES,
  type DeploymentState,
  TERMINAL_STATES,
} from '../../core/deploy/state-machine';
import { deployments } from '../../db/schema';
import type { TaskContext } from '../../platform/services';
import { recordDeploymentEnd } from '../metrics/record';
import { notifyDeploymentOutcome } from '../notifications/sources';
import { StateChanged } from './errors';
import { reportDeployment } from './report';
import { retireIfRefClosed } from './retire';
import { type EngineOptions, runDeployment } from './runner';
import { lockEnvironment, transitionDeployment } from './transition';

const ENDED: readonly DeploymentState[] = ['live', ...TERMINAL_STATES];

/**
 * Runs the environment's queued deployments one at a time, oldest first. Taking the turn locks
 * the environment row, so two consumers never deploy to one environment at once; every later
 * change of what the environment serves takes the same lock (`withTurn`).
 */
export async function drainEnvironment(
  context: TaskContext,
  environmentId: string,
  options: EngineOptions = {},
) {
  const db = context.services.db();
  for (;;) {
    const next = await db.transaction(async (tx) => {
      await lockEnvironment(tx, environmentId);
      const [active] = await tx
        .select()
        .from(deployments)
        .where(
          and(
            eq(deployments.environmentId, environmentId),
            inArray(deployments.status, ACTIVE_STATES),
          ),
        );
      if (active?.startedAt) return undefined;
      // A canary step still serving its time.
      if (active?.resumeAt && active.resumeAt > new Date()) return undefined;
      if (active) {
        // Handed back on a provider's rate limit, or a canary step done: this delivery resumes it.
        await tx
          .update(deployments)
          .set({ startedAt: new Date(), resumeAt: null })
          .where(eq(deployments.id, active.id));
        return active;
      }
      const [queued] = await tx
        .select()
        .from(deployments)
        .where(and(eq(deployments.environmentId, environmentId), eq(deployments.status, 'queued')))
        .orderBy(asc(deployments.createdAt))
        .limit(1)
        .for('update');
      if (!queued) return undefined;
      // Locked above, so still queued: a cancel waits for this turn, then finds it taken.
      const taken = await transitionDeployment(tx, queued.id, 'queued', 'validating');
      if (!taken.ok) throw new StateChanged(queued.id, 'queued', taken.status);
      return taken.deployment;
    });
    if (!next) return;
    const from = next.status;
    try {
      await runDeployment(context, next, options);
      // The engine moved it to an end (a canary pausing between shares has not ended).
      if (next.status !== from && ENDED.includes(next.status)) {
        await recordDeploymentEnd(db, context.services.metrics, next);
      }
    } catch (err) {
      if (!(err instanceof StateChanged)) throw err;
      // A manual rollback or the sweep ended it meanwhile: theirs is the last word.
      context.logger.info('deployment_ended_elsewhere', {
        deployment_id: err.deploymentId,
        expected: err.expected,
        actual: err.actual,
      });
    }
    await reportOutcome(context, next.id, options);
  }
}

/**
 * Tells of an ended deployment: notifications and the commit status (a retired one, whose branch
 * or pull request closed meanwhile, serves no one and is not reported). Then the deployment's
 * `report_pending` is cleared; both steps are idempotent, so the cron may run them again.
 */
async function reportOutcome(context: TaskContext, deploymentId: string, options: EngineOptions) {
  const db = context.services.db();
  if (await retireIfRefClosed(db, deploymentId)) {
    context.logger.info('deployment_retired', { deployment_id: deploymentId });
  } else {
    await notifyDeploymentOutcome(context, deploymentId);
    await reportDeployment(context, deploymentId, options);
  }
  await db
    .update(deployments)
    .set({ reportPending: false })
    .where(and(eq(deployments.id, deploymentId), eq(deployments.reportPending, true)));
}

/** The consumer that ends a deployment reports it within seconds; after this, it died first. */
export const REPORT_GRACE_MS = 5 * 60 * 1000;

/**
 * Cron: the outcomes of deployments whose consumer died after ending them and before telling of
 * them, oldest first, a bounded batch a minute.
 */
export async function reportPendingOutcomes(context: TaskContext, now: Date): Promise<number> {
  const rows = await context.services
    .db()
    .select({ id: deployments.id })
    .from(deployments)
    .where(
      and(
        eq(deployments.reportPending, true),
        lt(deployments.updatedAt, new Date(now.getTime() - REPORT_GRACE_MS)),
      ),
    )
    .orderBy(asc(deployments.updatedAt))
    .limit(REPORT_BATCH);
  for (const row of rows) await reportOutcome(context, row.id, {});
  return rows.length;
}

const REPORT_BATCH = 20;
