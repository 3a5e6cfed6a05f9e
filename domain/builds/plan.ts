import { and, eq, inArray } from 'drizzle-orm';
import { formatTraceparent } from '../../core/trace/context';
import { errorStatus, OpenSpan } from '../../core/trace/span';
import { builds, projects } from '../../db/schema';
import { runnerHub } from '../../platform/durable-objects';
import { BUILDS_QUEUE } from '../../platform/queues';
import { recordBuildSpans, type TraceDeps } from '../tracing/spans';
import { WAITING_STATUSES } from './statuses';

/**
 * `build.requested`: moves a queued build to planned and offers it to its workspace's RunnerHub.
 * Every step is idempotent, so at-least-once delivery never duplicates the job; a waiting build
 * may be planned again, so redelivery after a partial run converges.
 *
 * Two spans of the pipeline run's trace: the time the build waited for this consumer (`queued`)
 * and the consumer's own work, whose context the offer carries to the RunnerHub.
 */
export async function planBuild(
  env: Env,
  deps: TraceDeps,
  buildId: string,
  traceparent?: string,
): Promise<void> {
  const { db, logger } = deps;
  const [row] = await db
    .select({
      status: builds.status,
      projectId: builds.projectId,
      workspaceId: projects.workspaceId,
      queuedAt: builds.queuedAt,
      traceparent: builds.traceparent,
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
  const parent = traceparent ?? row.traceparent;
  const consumer = new OpenSpan(`${BUILDS_QUEUE} process`, 'consumer', parent).set({
    'messaging.system': 'cloudflare_queues',
    'messaging.destination.name': BUILDS_QUEUE,
    'messaging.operation.type': 'process',
  });
  const queued = new OpenSpan('queued', 'producer', parent, row.queuedAt.getTime())
    .set({ 'messaging.destination.name': BUILDS_QUEUE })
    .end({ code: 'ok' }, consumer.startMs);
  try {
    const offer = await runnerHub(env, row.workspaceId).offer({
      buildId,
      projectId: row.projectId,
      traceparent: formatTraceparent(consumer.context),
    });
    await db
      .update(builds)
      .set({ status: 'planned' })
      .where(and(eq(builds.id, buildId), inArray(builds.status, [...WAITING_STATUSES])));
    logger.info('build_planned', { build_id: buildId, queue_position: offer.position });
    await recordBuildSpans(deps, [
      { buildId, span: queued, phase: 'queued' },
      { buildId, span: consumer.set({ 'sparki.queue_position': offer.position }).end() },
    ]);
  } catch (error) {
    await recordBuildSpans(deps, [{ buildId, span: consumer.end(errorStatus(error)) }]);
    throw error;
  }
}
