import { deliverNotification, type Fetch } from '../domain/notifications/deliver';
import type { NotificationsMessage } from '../platform/queues';
import type { TaskContext } from '../platform/services';

/**
 * The `sparki-notifications` consumer: one attempt of one delivery. A failed attempt throws, and
 * the queue retries the message with backoff until the delivery's attempts run out.
 */
export function handleNotificationsMessage(
  message: NotificationsMessage,
  context: TaskContext,
  fetcher?: Fetch,
): Promise<void> {
  return deliverNotification(context, message.delivery_id, fetcher);
}
