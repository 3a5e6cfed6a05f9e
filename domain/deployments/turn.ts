import { eq } from 'drizzle-orm';
import type { DeploymentState } from '../../core/deploy/state-machine';
import type { Database, Transaction } from '../../db/client';
import { type Deployment, deployments } from '../../db/schema';
import { StateChanged } from './errors';
import { lockEnvironment, type TransitionOptions, transitionDeployment } from './transition';

/** Moves the engine's deployment on from the state the engine last left it in, or throws. */
export async function move(
  db: Database | Transaction,
  deployment: Deployment,
  to: DeploymentState,
  options: Omit<TransitionOptions, 'when'> = {},
) {
  const moved = await transitionDeployment(db, deployment.id, deployment.status, to, options);
  if (!moved.ok) throw new StateChanged(deployment.id, deployment.status, moved.status);
  deployment.status = to;
}

/**
 * Changes what the environment serves for the engine's deployment, under the environment's lock
 * and only while the deployment is still where the engine left it: a rollback or the sweep that
 * ended it meanwhile is never undone.
 */
export async function withTurn<T>(
  db: Database,
  deployment: Deployment,
  change: (tx: Transaction) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    await lockEnvironment(tx, deployment.environmentId);
    const [row] = await tx
      .select({ status: deployments.status })
      .from(deployments)
      .where(eq(deployments.id, deployment.id))
      .for('update');
    if (row?.status !== deployment.status) {
      throw new StateChanged(deployment.id, deployment.status, row?.status ?? null);
    }
    return change(tx);
  });
}
