import { and, eq, type SQL, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import {
  canTransition,
  type DeploymentState,
  IllegalTransitionError,
} from '../../core/deploy/state-machine';
import type { Database, Transaction } from '../../db/client';
import {
  type Deployment,
  deployments,
  deploymentTransitions,
  environments,
  type NewDeployment,
} from '../../db/schema';

const FINISHED: readonly DeploymentState[] = [
  'live',
  'failed',
  'rolled_back',
  'canceled',
  'retired',
];

export type TransitionOutcome =
  | { ok: true; deployment: Deployment }
  /** Someone else moved it first: `status` is what it is now (null: it no longer exists). */
  | { ok: false; status: DeploymentState | null };

export interface TransitionOptions {
  /** Kept on the history row (and as the error of a move to `failed`). */
  reason?: string | undefined;
  /** Other columns changed with the state, e.g. `rolledBackToId`. */
  set?: Partial<NewDeployment>;
  /** A further condition that must still hold, e.g. that the deployment is still stale. */
  when?: SQL | undefined;
}

/**
 * The one way a deployment changes state: the state machine must allow `from → to`, the row
 * changes only while it is still `from` (and `when`, if given, still holds), and the history row
 * is written with it. A lost race changes nothing and says so; the caller decides what that means.
 */
export async function transitionDeployment(
  db: Database | Transaction,
  deploymentId: string,
  from: DeploymentState,
  to: DeploymentState,
  options: TransitionOptions = {},
): Promise<TransitionOutcome> {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  const { reason } = options;
  // The row and its history row change together: in the caller's transaction, or in one of its own.
  const atomically = <T>(work: (tx: Database | Transaction) => Promise<T>) =>
    db instanceof PgTransaction ? work(db) : db.transaction(work);
  return atomically(async (tx) => {
    const [row] = await tx
      .update(deployments)
      .set({
        ...options.set,
        status: to,
        ...(to === 'validating' ? { startedAt: new Date() } : {}),
        ...(FINISHED.includes(to)
          ? { finishedAt: sql`coalesce(${deployments.finishedAt}, now())` }
          : {}),
        ...(to === 'failed' && reason ? { error: reason } : {}),
      })
      .where(and(eq(deployments.id, deploymentId), eq(deployments.status, from), options.when))
      .returning();
    if (!row) {
      const [current] = await tx
        .select({ status: deployments.status })
        .from(deployments)
        .where(eq(deployments.id, deploymentId));
      return { ok: false, status: current?.status ?? null };
    }
    await tx.insert(deploymentTransitions).values({
      deploymentId,
      fromStatus: from,
      toStatus: to,
      reason: reason ?? null,
      // Several moves in one transaction keep their order (now() is the transaction's start).
      at: sql`clock_timestamp()`,
    });
    return { ok: true, deployment: row };
  });
}

/**
 * The environment's lock: taken by the engine whenever it changes what the environment serves or
 * takes its turn, by a manual rollback and by the stale-deployment sweep, always before any
 * deployment row, so they never interleave (nor deadlock).
 */
export async function lockEnvironment(tx: Transaction, environmentId: string) {
  const [row] = await tx
    .select()
    .from(environments)
    .where(eq(environments.id, environmentId))
    .for('update');
  return row;
}
