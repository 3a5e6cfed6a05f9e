import { and, eq, inArray } from 'drizzle-orm';
import { builds, projects } from '../db/schema';
import { reportBuildStatus } from '../domain/reporting/build-status';
import type { Fetch } from '../domain/reporting/commit-status';
import { runnerHub } from '../platform/durable-objects';
import type { BuildsMessage } from '../platform/queues';
import type { TaskContext } from '../platform/services';

/** Statuses from which planning (again) is safe: redelivery after a partial run must converge. */
const PLANNABLE = ['queued', 'planned'] as const;

/** How the consumer reaches git providers; tests pass their own fetch. */
export interface BuildsConsumerOptions {
  fetch?: Fetch;
}

/**
 * `build.requested`: moves a queued build to planned and offers it to its workspace's RunnerHub.
 * Every step is idempotent, so at-least-once delivery never duplicates the job.
 * `build.status`: reports the build's current status to its repository (never fails on the
 * provider's account).
 */
export async function handleBuildsMessage(
  message: BuildsMessage,
  { env, services, logger }: TaskContext,
  options: BuildsConsumerOptions = {},
): Promise<void> {
  const db = services.db();
  if (message.type === 'build.status') {
    await reportBuildStatus(
      {
        db,
        encryptionKey: services.config.ENCRYPTION_KEY,
        fetch: options.fetch ?? ((request) => fetch(request)),
        logger,
        publicUrl: services.config.PUBLIC_URL,
      },
      message.buildId,
    );
    return;
  }
  const [row] = await db
    .select({
      status: builds.status,
      projectId: builds.projectId,
      workspaceId: projects.workspaceId,
    })
    .from(builds)
    .innerJoin(projects, eq(projects.id, builds.projectId))
    .where(eq(builds.id, message.buildId));
  if (!row) {
    logger.warn('build_not_found', { build_id: message.buildId });
    return;
  }
  if (!PLANNABLE.some((status) => status === row.status)) {
    logger.info('build_already_past_planning', { build_id: message.buildId, status: row.status });
    return;
  }
  const offer = await runnerHub(env, row.workspaceId).offer({
    buildId: message.buildId,
    projectId: row.projectId,
  });
  await db
    .update(builds)
    .set({ status: 'planned' })
    .where(and(eq(builds.id, message.buildId), inArray(builds.status, [...PLANNABLE])));
  logger.info('build_planned', { build_id: message.buildId, queue_position: offer.position });
}
