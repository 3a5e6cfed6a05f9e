import {
  and,
  eq,
  inArray,
  isNotNull,
  isNull,
  lte,
  notExists,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import { type DeploymentState, RETIRABLE_STATES } from '../../core/deploy/state-machine';
import type { Database, Transaction } from '../../db/client';
import { builds, deployments, environments, projects } from '../../db/schema';
import { auditDeployment } from './audit';
import { transitionDeployment } from './transition';

/**
 * A branch that was deleted or a pull request that was closed. A branch covers its own builds,
 * not those of pull requests from it: those retire with their pull request.
 */
export type ClosedRef = { branch: string } | { pullRequest: number; merged: boolean };

export interface RetiredDeployment {
  id: string;
  from: DeploymentState;
}

export function closedRefReason(ref: ClosedRef): string {
  return 'branch' in ref
    ? `branch ${ref.branch} deleted`
    : `pull request #${ref.pullRequest} ${ref.merged ? 'merged' : 'closed'}`;
}

function buildsOf(projectId: string, ref: ClosedRef): SQL {
  return and(
    eq(builds.projectId, projectId),
    'branch' in ref
      ? and(eq(builds.branch, ref.branch), isNull(builds.pullRequest))
      : eq(builds.pullRequest, ref.pullRequest),
  )!;
}

/** Production and whatever an environment points at (live, canary) are never retired. */
function retirable(db: Database | Transaction): SQL {
  return and(
    eq(deployments.stage, 'preview'),
    inArray(deployments.status, RETIRABLE_STATES),
    notExists(
      db
        .select({ id: environments.id })
        .from(environments)
        .where(
          or(
            eq(environments.liveDeploymentId, deployments.id),
            eq(environments.canaryDeploymentId, deployments.id),
          ),
        ),
    ),
  )!;
}

/** Rows the caller locked (`FOR UPDATE`), each through the guarded transition. */
async function retire(
  tx: Transaction,
  rows: { id: string; status: DeploymentState }[],
  reason: string,
): Promise<RetiredDeployment[]> {
  const retired: RetiredDeployment[] = [];
  for (const row of rows) {
    const moved = await transitionDeployment(tx, row.id, row.status, 'retired', { reason });
    if (moved.ok) retired.push({ id: row.id, from: row.status });
  }
  return retired;
}

/**
 * The branch or pull request is gone: its builds are marked (a build still running, or a
 * deployment still deploying, retires once it is done) and its preview deployments retire at
 * once. Idempotent: a second call finds nothing left to retire. The caller audits what it returns.
 */
export async function closeRef(
  tx: Transaction,
  projectId: string,
  ref: ClosedRef,
): Promise<RetiredDeployment[]> {
  await tx
    .update(builds)
    .set({ refClosedAt: sql`now()` })
    .where(and(buildsOf(projectId, ref), isNull(builds.refClosedAt)));
  const rows = await tx
    .select({ id: deployments.id, status: deployments.status })
    .from(deployments)
    .innerJoin(builds, eq(builds.id, deployments.buildId))
    .where(and(buildsOf(projectId, ref), retirable(tx)))
    .for('update', { of: deployments });
  return retire(tx, rows, closedRefReason(ref));
}

/**
 * After the engine finished a preview: if its branch or pull request closed while it was being
 * deployed, it retires now (and is audited). One asked for after the close (a deploy by hand)
 * stays. Returns whether it retired.
 */
export async function retireIfRefClosed(db: Database, deploymentId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({
        id: deployments.id,
        status: deployments.status,
        branch: builds.branch,
        pullRequest: builds.pullRequest,
        workspaceId: projects.workspaceId,
      })
      .from(deployments)
      .innerJoin(builds, eq(builds.id, deployments.buildId))
      .innerJoin(projects, eq(projects.id, deployments.projectId))
      .where(
        and(
          eq(deployments.id, deploymentId),
          isNotNull(builds.refClosedAt),
          lte(deployments.createdAt, builds.refClosedAt),
          retirable(tx),
        ),
      )
      .for('update', { of: deployments });
    if (!row) return false;
    // Merged or closed: the build does not record which, and either way the preview goes.
    const ref: ClosedRef =
      row.pullRequest !== null
        ? { pullRequest: row.pullRequest, merged: false }
        : { branch: row.branch ?? '' };
    const reason = `${closedRefReason(ref)} while it was being deployed`;
    if ((await retire(tx, [row], reason)).length === 0) return false;
    await auditDeployment(tx, {
      workspaceId: row.workspaceId,
      deploymentId: row.id,
      action: 'deployment.retired',
      metadata: { reason, from: row.status, ...refMetadata(ref) },
    });
    return true;
  });
}

/** The closed ref as audit metadata. */
export function refMetadata(ref: ClosedRef): Record<string, unknown> {
  return 'branch' in ref
    ? { branch: ref.branch }
    : { pull_request: ref.pullRequest, merged: ref.merged };
}

/** Whether the build's branch was deleted or its pull request closed: no preview is made of it. */
export async function buildRefClosed(db: Database, buildId: string): Promise<boolean> {
  const [row] = await db
    .select({ closedAt: builds.refClosedAt })
    .from(builds)
    .where(eq(builds.id, buildId));
  return Boolean(row?.closedAt);
}
