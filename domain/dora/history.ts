import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { DeploymentState } from '../../core/deploy/state-machine';
import type { DeploymentRecord } from '../../core/dora/records';
import type { Database } from '../../db/client';
import { builds, deployments, deploymentTransitions, projects } from '../../db/schema';

export type DoraScope = { projectId: string } | { workspaceId: string };

/** The first time the deployment reached `state`, in epoch ms (an index scan per deployment). */
function firstReached(state: DeploymentState) {
  return sql<number | null>`(select min(${deploymentTransitions.at}) from ${deploymentTransitions}
    where ${deploymentTransitions.deploymentId} = ${deployments.id}
    and ${deploymentTransitions.toStatus} = ${state})`.mapWith((value) =>
    value === null ? null : new Date(value).getTime(),
  );
}

const toMs = (date: Date | null) => (date === null ? null : date.getTime());

/**
 * Every production deployment of a project or of a workspace's projects, with what DORA reads:
 * the build's commit and when each state was first reached. The whole history, not a window's:
 * a commit delivered before or the deployment after a failure decide what one in the window is.
 */
export async function productionHistory(
  db: Database,
  scope: DoraScope,
): Promise<DeploymentRecord[]> {
  const where: SQL[] = [eq(deployments.stage, 'production')];
  if ('projectId' in scope) where.push(eq(deployments.projectId, scope.projectId));
  else where.push(eq(projects.workspaceId, scope.workspaceId));
  const rows = await db
    .select({
      id: deployments.id,
      projectId: deployments.projectId,
      environmentId: deployments.environmentId,
      buildId: deployments.buildId,
      status: deployments.status,
      commitSha: builds.commitSha,
      commitMessage: builds.commitMessage,
      branch: builds.branch,
      committedAt: builds.committedAt,
      verifyingAt: firstReached('verifying'),
      liveAt: firstReached('live'),
      rolledBackAt: firstReached('rolled_back'),
      failedAt: firstReached('failed'),
    })
    .from(deployments)
    .innerJoin(builds, eq(builds.id, deployments.buildId))
    .innerJoin(projects, eq(projects.id, deployments.projectId))
    .where(and(...where));
  return rows.map((row) => ({ ...row, committedAt: toMs(row.committedAt) }));
}
