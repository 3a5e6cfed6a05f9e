import { relayOutbox } from '../queues/outbox';
import { createLogger } from './logger';
import { createServices } from './services';

export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const logger = createLogger({ cron: controller.cron }, env.LOG_LEVEL);
  const scoped = createServices(env);
  try {
    const result = await relayOutbox(env, scoped.services.db(), new Date(controller.scheduledTime));
    logger.info('outbox_relayed', result);
  } finally {
    ctx.waitUntil(scoped.close());
  }
}
