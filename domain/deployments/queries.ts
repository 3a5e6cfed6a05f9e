import { and, desc, eq, inArray, lt, ne, or } from 'drizzle-orm';
import {
  ACTIVE_STATES,
  canTransition,
  type DeploymentState,
} from '../../core/deploy/state-machine';
import type { Database, Transaction } from '../../db/client';
import {
  builds,
  type Deployment,
  deployments,
  deploymentTransitions,
  environments,
  outbox,
} from '../../db/schema';
import { ApiError } from '../../platform/errors';
import { DEPLOYMENTS_QUEUE, type DeploymentsMessage } from '../../platform/queues';
import type { Audit } from '../audit';
import { publishOutbox } from '../outbox';
import { requestDeployment } from './request';
import { lockEnvironment, transitionDeployment } from './transition';

export interface DeploymentFilter {
  stage?: Deployment['stage'] | undefined;
  status?: DeploymentState | undefined;
  /** Only deployments created before this instant (the previous page's last). */
  before?: Date | undefined;
  environmentId?: string | undefined;
}

/** A project's deployments, newest first, with their build and environment. */
export function deploymentsOf(
  db: Database,
  projectId: string,
  filter: DeploymentFilter,
  limit: number,
) {
  return withContext(db)
    .where(
      and(
        eq(deployments.projectId, projectId),
        filter.stage ? eq(deployments.stage, filter.stage) : undefined,
        filter.status ? eq(deployments.status, filter.status) : undefined,
        filter.before ? lt(deployments.createdAt, filter.before) : undefined,
        filter.environmentId ? eq(deployments.environmentId, filter.environmentId) : undefined,
      ),
    )
    .orderBy(desc(deployments.createdAt))
    .limit(limit);
}

/** What a deployment is shown with: the build it deploys and the environment it deploys to. */
function withContext(db: Database) {
  return db
    .select({
      deployment: deployments,
      build: { number: builds.number, commitSha: builds.commitSha, branch: builds.branch },
      environment: {
        id: environments.id,
        name: environments.name,
        kind: environments.kind,
        liveDeploymentId: environments.liveDeploymentId,
        canaryDeploymentId: environments.canaryDeploymentId,
      },
    })
    .from(deployments)
    .innerJoin(builds, eq(builds.id, deployments.buildId))
    .innerJoin(environments, eq(environments.id, deployments.environmentId));
}

export type DeploymentInContext = Awaited<ReturnType<typeof deploymentsOf>>[number];

/** One deployment with its build and environment. */
export async function deploymentInContext(db: Database, id: string) {
  const [row] = await withContext(db).where(eq(deployments.id, id));
  return row;
}

export async function findDeployment(db: Database, id: string): Promise<Deployment | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
  return row;
}

/** A deployment's state changes, oldest first. */
export function transitionsOf(db: Database, deploymentId: string) {
  return db
    .select()
    .from(deploymentTransitions)
    .where(eq(deploymentTransitions.deploymentId, deploymentId))
    .orderBy(deploymentTransitions.at);
}

/**
 * Asks the deploy engine for a deployment: the row, its audit row (`action`, `metadata`) and the
 * engine's message in one transaction; the message is sent right after commit.
 */
export async function queueDeployment(
  env: Env,
  db: Database,
  request: Parameters<typeof requestDeployment>[1],
  audit: Audit,
  action: string,
  metadata: Record<string, unknown>,
) {
  const { deployment, message } = await db.transaction(async (tx) => {
    const created = await requestDeployment(tx, request);
    await audit(tx, { action, targetType: 'deployment', targetId: created.id, metadata });
    const payload: DeploymentsMessage = {
      type: 'deployment.requested',
      environment_id: request.environmentId,
    };
    const [row] = await tx.insert(outbox).values({ topic: DEPLOYMENTS_QUEUE, payload }).returning();
    return { deployment: created, message: row! };
  });
  await publishOutbox(env, db, [message]);
  return deployment;
}

/** Cancels a deployment still queued: the transition's outcome, audited when it moved. */
export function cancelQueuedDeployment(db: Database, id: string, audit: Audit) {
  return db.transaction(async (tx) => {
    const moved = await transitionDeployment(tx, id, 'queued', 'canceled');
    if (moved.ok) {
      await audit(tx, { action: 'deployment.canceled', targetType: 'deployment', targetId: id });
    }
    return moved;
  });
}

const changedMeanwhile = () =>
  new ApiError('conflict', 'The environment’s deployments changed meanwhile; try again');

/**
 * What a rollback goes back to: the one asked for, or the newest live deployment other than the
 * current one. It must have served before (a deployment rolled back for failing its checks never
 * did) and have the edge host's files to serve.
 */
async function rollbackTarget(
  tx: Transaction,
  environmentId: string,
  current: string | null,
  requested: string | undefined,
) {
  const [target] = await tx
    .select()
    .from(deployments)
    .where(
      and(
        eq(deployments.environmentId, environmentId),
        requested
          ? eq(deployments.id, requested)
          : and(eq(deployments.status, 'live'), current ? ne(deployments.id, current) : undefined),
      ),
    )
    .orderBy(desc(deployments.createdAt))
    .limit(1)
    .for('update');
  if (
    !target?.manifestKey ||
    target.id === current ||
    (target.status !== 'live' && target.status !== 'rolled_back')
  ) {
    throw new ApiError('conflict', 'There is no earlier live deployment to go back to');
  }
  if (target.status === 'rolled_back') {
    const [served] = await tx
      .select({ id: deploymentTransitions.id })
      .from(deploymentTransitions)
      .where(
        and(
          eq(deploymentTransitions.deploymentId, target.id),
          eq(deploymentTransitions.toStatus, 'live'),
        ),
      )
      .limit(1);
    if (!served) {
      throw new ApiError(
        'conflict',
        'That deployment never went live; only one that served before can be put back',
      );
    }
  }
  return target;
}

/**
 * Serves an earlier live deployment of the environment again (`requested`, or the one live
 * before the current one) and returns it. Runs under the deploy engine's lock on the environment.
 */
export function rollBack(
  db: Database,
  environmentId: string,
  requested: string | undefined,
  audit: Audit,
) {
  const id = environmentId;
  return db.transaction(async (tx) => {
    // The deploy engine's lock: no canary step or other change of what the environment serves
    // interleaves with this, and what this decides is read under it.
    const current = (await lockEnvironment(tx, id))?.liveDeploymentId ?? null;
    const target = await rollbackTarget(tx, id, current, requested);
    // The deployment holding the environment's turn ends here (and what served until now is
    // rolled back), so its engine stops at its next step instead of undoing this.
    const ending = await tx
      .select({ id: deployments.id, status: deployments.status })
      .from(deployments)
      .where(
        and(
          eq(deployments.environmentId, id),
          or(
            inArray(deployments.status, ACTIVE_STATES),
            current ? eq(deployments.id, current) : undefined,
          ),
        ),
      )
      .for('update');
    for (const row of ending) {
      const beforeProduction = row.status === 'validating' || row.status === 'deploying';
      if (!beforeProduction && !canTransition(row.status, 'rolled_back')) continue;
      const ended = beforeProduction
        ? await transitionDeployment(tx, row.id, row.status, 'canceled', {
            reason: `canceled by a rollback to ${target.id}`,
          })
        : await transitionDeployment(tx, row.id, row.status, 'rolled_back', {
            reason: `rolled back to ${target.id}`,
            set: { rolledBackToId: target.id },
          });
      if (!ended.ok) throw changedMeanwhile();
    }
    await tx
      .update(environments)
      .set({ liveDeploymentId: target.id, canaryDeploymentId: null, canaryPercent: 0 })
      .where(eq(environments.id, id));
    if (target.status === 'rolled_back') {
      const again = await transitionDeployment(tx, target.id, 'rolled_back', 'live', {
        reason: current ? `rollback from ${current}` : 'rollback',
      });
      if (!again.ok) throw changedMeanwhile();
    }
    const [live] = await tx
      .update(deployments)
      .set({ rolledBackFromId: current })
      .where(eq(deployments.id, target.id))
      .returning();
    await audit(tx, {
      action: 'deployment.rolled_back',
      targetType: 'environment',
      targetId: id,
      metadata: {
        automatic: false,
        from: current,
        to: target.id,
        ended: ending.map((row) => row.id).filter((ended) => ended !== current),
      },
    });
    return live!;
  });
}
