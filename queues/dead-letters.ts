import type { Logger } from '../platform/logger';

export const DEAD_LETTER_PREFIX = 'dead-letters';

/**
 * Messages that exhausted their retries are kept in R2 (one JSON object each, under
 * `dead-letters/<source queue>/`), so they can be inspected and replayed instead of expiring
 * unseen in the dead-letter queue.
 */
export async function storeDeadLetter(
  env: Env,
  queue: string,
  message: Message<unknown>,
  logger: Logger,
): Promise<string> {
  const source = queue.replace(/-dlq$/, '');
  const key = `${DEAD_LETTER_PREFIX}/${source}/${message.timestamp.toISOString()}-${message.id}.json`;
  await env.LOGS.put(
    key,
    JSON.stringify({
      queue: source,
      id: message.id,
      timestamp: message.timestamp.toISOString(),
      attempts: message.attempts,
      body: message.body,
    }),
    { httpMetadata: { contentType: 'application/json' } },
  );
  logger.error('queue_message_dead_lettered', { queue: source, key });
  return key;
}
