import { retryDelaySeconds } from '../core/backoff';
import { createLogger } from '../platform/logger';
import {
  BUILDS_QUEUE,
  BuildsMessageSchema,
  DEPLOYMENTS_QUEUE,
  DeploymentsMessageSchema,
  NOTIFICATIONS_QUEUE,
  NotificationsMessageSchema,
} from '../platform/queues';
import { createServices } from '../platform/services';
import { handleBuildsMessage } from './builds';
import { type Consumer, InvalidMessageError, validated } from './consumer';
import { storeDeadLetter } from './dead-letters';
import { handleDeploymentsMessage } from './deployments';
import { handleNotificationsMessage } from './notifications';

const consumers: Record<string, Consumer> = {
  [BUILDS_QUEUE]: validated(BuildsMessageSchema, handleBuildsMessage),
  [DEPLOYMENTS_QUEUE]: validated(DeploymentsMessageSchema, handleDeploymentsMessage),
  [NOTIFICATIONS_QUEUE]: validated(NotificationsMessageSchema, (message, context) =>
    handleNotificationsMessage(message, context),
  ),
};

function isDeadLetterQueue(queue: string): boolean {
  return queue.endsWith('-dlq');
}

/** Dispatches by queue name; each message is acked or retried with backoff on its own. */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  if (isDeadLetterQueue(batch.queue)) return handleDeadLetters(batch, env);
  const consume = consumers[batch.queue];
  if (!consume) throw new Error(`No consumer for queue ${batch.queue}`);
  const scoped = createServices(env);
  try {
    for (const message of batch.messages) {
      const logger = createLogger(
        { queue: batch.queue, message_id: message.id, attempts: message.attempts },
        env.LOG_LEVEL,
      );
      try {
        await consume(message.body, { env, services: scoped.services, logger });
        message.ack();
      } catch (err) {
        if (err instanceof InvalidMessageError) {
          logger.error('queue_message_invalid', { issues: err.issues });
          message.ack();
        } else {
          logger.error('queue_message_failed', { error: err });
          message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
        }
      }
    }
  } finally {
    ctx.waitUntil(scoped.close());
  }
}

async function handleDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const logger = createLogger({ queue: batch.queue, message_id: message.id }, env.LOG_LEVEL);
    try {
      await storeDeadLetter(env, batch.queue, message, logger);
      message.ack();
    } catch (err) {
      logger.error('dead_letter_store_failed', { error: err });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
