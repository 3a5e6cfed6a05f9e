import { and, eq, inArray } from 'drizzle-orm';
import { builds, projects } from '../db/schema';
import type { ConsumerContext } from './consumer';
import type { BuildsMessage } from './messages';

/** Statuses from which planning (again) is safe: redelivery after a partial run must converge. */
const PLANNABLE = ['queued', 'planned'] as const;

/**
 * Moves a queued build to planned and offers it to its workspace's RunnerHub. Every step is
 * idempotent, so at-least-once delivery never duplicates the job.
 */
export async function handleBuildsMessage(
  message: BuildsMessage,
  { env, services, logger }: ConsumerContext,
): Promise<void> {
  const db = services.db();
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
  const hub = env.RUNNER_HUB.get(env.RUNNER_HUB.idFromName(`workspace:${row.workspaceId}`));
  const offer = await hub.offer({ buildId: message.buildId, projectId: row.projectId });
  await db
    .update(builds)
    .set({ status: 'planned' })
    .where(and(eq(builds.id, message.buildId), inArray(builds.status, [...PLANNABLE])));
  logger.info('build_planned', { build_id: message.buildId, queue_position: offer.position });
}
