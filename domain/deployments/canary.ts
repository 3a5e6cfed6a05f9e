import { and, eq } from 'drizzle-orm';
import type { Transaction } from '../../db/client';
import { type Deployment, deployments } from '../../db/schema';
import type { DeploymentsMessage } from '../../platform/queues';
import type { TaskContext } from '../../platform/services';
import { StateChanged } from './errors';

/** A canary's share of production traffic, kept on the row as the engine moves it up. */
export async function recordCanaryShare(tx: Transaction, deployment: Deployment, percent: number) {
  await tx
    .update(deployments)
    .set({ canaryPercent: percent })
    .where(eq(deployments.id, deployment.id));
  deployment.canaryPercent = percent;
}

/**
 * Leaves a canary share serving: the deployment stays active (so the environment's queue waits)
 * with no consumer on it until `resumeAt`. A delayed message resumes it then; should that message
 * be lost, the cron does (`resumeDueCanaries`).
 */
export async function pauseCanary(context: TaskContext, deployment: Deployment, seconds: number) {
  const resumeAt = new Date(Date.now() + seconds * 1000);
  const [paused] = await context.services
    .db()
    .update(deployments)
    .set({ startedAt: null, resumeAt })
    .where(and(eq(deployments.id, deployment.id), eq(deployments.status, deployment.status)))
    .returning({ id: deployments.id });
  if (!paused) throw new StateChanged(deployment.id, deployment.status, null);
  const message: DeploymentsMessage = {
    type: 'deployment.requested',
    environment_id: deployment.environmentId,
  };
  await context.env.DEPLOYMENTS_QUEUE.send(message, { delaySeconds: seconds }).catch(
    (error: unknown) => context.logger.warn('canary_resume_not_scheduled', { error }),
  );
  context.logger.info('canary_step_serving', {
    deployment_id: deployment.id,
    percent: deployment.canaryPercent,
    resume_at: resumeAt.toISOString(),
  });
}
