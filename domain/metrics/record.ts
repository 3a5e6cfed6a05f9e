import { and, eq, min } from 'drizzle-orm';
import type { Database } from '../../db/client';
import {
  type Build,
  buildSteps,
  type Deployment,
  deploymentTransitions,
  projects,
} from '../../db/schema';
import type { Metrics } from '../../platform/metrics';
import { FINISHED_STATUSES } from '../builds/statuses';

/**
 * The events of the records that change in several places, said once. Each is called after the
 * change committed, by the one caller whose guarded update made it (so a repeat reports nothing).
 */

const seconds = (from: Date | null, to: Date | null) =>
  from && to ? (to.getTime() - from.getTime()) / 1000 : undefined;

type EndedBuild = Pick<Build, 'status' | 'projectId' | 'trigger' | 'startedAt' | 'finishedAt'>;

/** A build reached its end: its result, and how long it ran (if a runner ever had it). */
export function recordBuildEnd(metrics: Metrics, build: EndedBuild, workspaceId?: string) {
  const result = FINISHED_STATUSES.find((status) => status === build.status);
  if (!result) return;
  metrics.record({
    type: 'build_finished',
    result,
    projectId: build.projectId,
    workspaceId,
    trigger: build.trigger,
    seconds: seconds(build.startedAt, build.finishedAt),
  });
}

/** The duration of every step of the build that started and finished. */
export async function recordStepDurations(
  db: Database,
  metrics: Metrics,
  build: Pick<Build, 'id' | 'projectId'>,
) {
  const steps = await db
    .select({
      name: buildSteps.name,
      status: buildSteps.status,
      startedAt: buildSteps.startedAt,
      finishedAt: buildSteps.finishedAt,
    })
    .from(buildSteps)
    .where(eq(buildSteps.buildId, build.id));
  for (const step of steps) {
    const duration = seconds(step.startedAt, step.finishedAt);
    if (duration === undefined) continue;
    metrics.record({
      type: 'build_step',
      name: step.name,
      status: step.status,
      seconds: duration,
      projectId: build.projectId,
    });
  }
}

/**
 * A deployment ended (live, failed, rolled back, canceled): its result, and how long it took
 * from taking its environment's turn (its first `validating`; a canary paused between shares
 * counts its pauses), when it ever did. An automatic rollback is counted as one too.
 */
export async function recordDeploymentEnd(
  db: Database,
  metrics: Metrics,
  deployment: Pick<Deployment, 'id' | 'status' | 'stage' | 'platform' | 'projectId'>,
) {
  const [turn] = await db
    .select({ at: min(deploymentTransitions.at), workspaceId: projects.workspaceId })
    .from(projects)
    .leftJoin(
      deploymentTransitions,
      and(
        eq(deploymentTransitions.deploymentId, deployment.id),
        eq(deploymentTransitions.toStatus, 'validating'),
      ),
    )
    .where(eq(projects.id, deployment.projectId))
    .groupBy(projects.workspaceId);
  const workspaceId = turn?.workspaceId;
  const { stage, platform, projectId } = deployment;
  metrics.record({
    type: 'deployment_finished',
    result: deployment.status,
    stage,
    platform,
    projectId,
    workspaceId,
    seconds: seconds(turn?.at ?? null, new Date()),
  });
  if (deployment.status === 'rolled_back') {
    metrics.record({
      type: 'rollback',
      kind: 'automatic',
      stage,
      platform,
      projectId,
      workspaceId,
    });
  }
}
