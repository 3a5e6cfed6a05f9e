import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { builds, projects } from '../../db/schema';
import { runnerHub } from '../../platform/durable-objects';
import type { Logger } from '../../platform/logger';
import { WAITING_STATUSES } from './statuses';

/**
 * `build.requested`: moves a queued build to planned and offers it to its workspace's RunnerHub.
 * Every step is idempotent, so at-least-once delivery never duplicates the job; a waiting build
 * may be planned again, so redelivery after a partial run converges.
 */
export async function planBuild(
  env: Env,
  db: Database,
  buildId: string,
  logger: Logger,
): Promise<void> {
  const [row] = await db
    .select({
      status: builds.status,
      projectId: builds.projectId,
      workspaceId: projects.workspaceId,
    })
    .from(builds)
    .innerJoin(projects, eq(projects.id, builds.projectId))
    .where(eq(builds.id, buildId));
  if (!row) {
    logger.warn('build_not_found', { build_id: buildId });
    return;
  }
  if (!WAITING_STATUSES.some((status) => status === row.status)) {
    logger.info('build_already_past_planning', { build_id: buildId, status: row.status });
    return;
  }
  const offer = await runnerHub(env, row.workspaceId).offer({
    buildId,
    projectId: row.projectId,
  });
  await db
    .update(builds)
    .set({ status: 'planned' })
    .where(and(eq(builds.id, buildId), inArray(builds.status, [...WAITING_STATUSES])));
  logger.info('build_planned', { build_id: buildId, queue_position: offer.position });
}
