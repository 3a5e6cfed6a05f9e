import { reportPendingOutcomes } from '../domain/deployments/queue';
import { failStaleDeployments, resumeDueCanaries } from '../domain/deployments/sweeps';
import { runnerSlotsByWorkspace } from '../domain/metrics/runner-slots';
import { relayOutbox } from '../domain/outbox';
import { deleteExpiredIdempotencyKeys } from '../platform/idempotency-keys';
import { createLogger } from '../platform/logger';
import { createServices } from '../platform/services';

export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const logger = createLogger({ cron: controller.cron }, env.LOG_LEVEL);
  const scoped = createServices(env);
  try {
    const db = scoped.services.db();
    const { metrics } = scoped.services;
    const now = new Date(controller.scheduledTime);
    const stale = await failStaleDeployments(db, now, metrics);
    if (stale > 0) logger.warn('stale_deployments_failed', { count: stale });
    const resumed = await resumeDueCanaries(db, now);
    if (resumed > 0) logger.warn('canary_resumed_by_cron', { environments: resumed });
    const reported = await reportPendingOutcomes({ env, services: scoped.services, logger }, now);
    if (reported > 0) logger.warn('deployment_outcomes_reported_by_cron', { count: reported });
    const result = await relayOutbox(env, db, now);
    logger.info('outbox_relayed', result);
    const expired = await deleteExpiredIdempotencyKeys(db, now);
    logger.info('idempotency_keys_expired', { deleted: expired });
    // Analytics Engine keeps events, not state: a sample a minute per workspace makes the series.
    for (const slots of await runnerSlotsByWorkspace(db)) {
      metrics.record({ type: 'runner_utilisation', ...slots });
    }
  } finally {
    ctx.waitUntil(scoped.close());
  }
}
