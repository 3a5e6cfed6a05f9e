import { and, asc, eq, inArray } from 'drizzle-orm';
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
    // Its branch or pull request closed meanwhile: not reported, it serves no one.
    if (await retireIfRefClosed(db, next.id)) {
      context.logger.info('deployment_retired', { deployment_id: next.id });
      continue;
    }
    await notifyDeploymentOutcome(context, next.id);
    await reportDeployment(context, next.id, options);
  }
}
