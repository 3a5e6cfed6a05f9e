import { and, arrayContains, desc, eq } from 'drizzle-orm';
import type { NotificationEvent } from '../../core/notifications/events';
import type { Database, Transaction } from '../../db/client';
import {
  type NotificationDelivery,
  type NotificationTarget,
  notificationDeliveries,
  notificationTargets,
  outbox,
} from '../../db/schema';
import { NOTIFICATIONS_QUEUE, type NotificationsMessage } from '../../platform/queues';
import type { Audit } from '../audit';
import { publishOutbox } from '../outbox';

/** An event as one project sees it (a runner going offline is one event per project). */
export interface ProjectEvent {
  projectId: string;
  event: NotificationEvent;
}

async function enqueue(tx: Transaction, deliveries: Pick<NotificationDelivery, 'id'>[]) {
  if (deliveries.length === 0) return [];
  return tx
    .insert(outbox)
    .values(
      deliveries.map((delivery) => ({
        topic: NOTIFICATIONS_QUEUE,
        payload: {
          type: 'notification.deliver',
          delivery_id: delivery.id,
        } satisfies NotificationsMessage,
      })),
    )
    .returning();
}

/**
 * One delivery per enabled target subscribed to the event, each with its queue message in the
 * outbox of the same transaction, published right after. An event recorded again (a redelivered
 * queue message, a repeated report) adds nothing: `(target, event id)` is unique.
 */
export async function recordEvents(
  env: Env,
  db: Database,
  events: readonly ProjectEvent[],
): Promise<NotificationDelivery[]> {
  if (events.length === 0) return [];
  const { deliveries, messages } = await db.transaction(async (tx) => {
    const created: NotificationDelivery[] = [];
    for (const { projectId, event } of events) {
      if (event.type === 'test') continue;
      const targets = await tx
        .select({ id: notificationTargets.id })
        .from(notificationTargets)
        .where(
          and(
            eq(notificationTargets.projectId, projectId),
            eq(notificationTargets.enabled, true),
            arrayContains(notificationTargets.events, [event.type]),
          ),
        );
      if (targets.length === 0) continue;
      const rows = await tx
        .insert(notificationDeliveries)
        .values(
          targets.map((target) => ({
            targetId: target.id,
            projectId,
            eventType: event.type,
            eventId: event.id,
            payload: event,
          })),
        )
        .onConflictDoNothing()
        .returning();
      created.push(...rows);
    }
    return { deliveries: created, messages: await enqueue(tx, created) };
  });
  await publishOutbox(env, db, messages);
  return deliveries;
}

/** A new delivery of the target, queued at once: a redelivery or a test event. */
async function deliverAgain(
  env: Env,
  db: Database,
  target: NotificationTarget,
  values: { event: NotificationEvent; redeliveryOf: string | null },
  audit: { action: string; audit: Audit },
) {
  const { delivery, messages } = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(notificationDeliveries)
      .values({
        targetId: target.id,
        projectId: target.projectId,
        eventType: values.event.type,
        eventId: values.event.id,
        payload: values.event,
        redeliveryOf: values.redeliveryOf,
      })
      .returning();
    await audit.audit(tx, {
      action: audit.action,
      targetType: 'notification_target',
      targetId: target.id,
      metadata: {
        project_id: target.projectId,
        delivery_id: row!.id,
        event: values.event.type,
        ...(values.redeliveryOf && { redelivery_of: values.redeliveryOf }),
      },
    });
    return { delivery: row!, messages: await enqueue(tx, [row!]) };
  });
  await publishOutbox(env, db, messages);
  return delivery;
}

/** Sends a delivery's event to its target again, as a new delivery with a log of its own. */
export function redeliver(
  env: Env,
  db: Database,
  target: NotificationTarget,
  original: NotificationDelivery,
  audit: Audit,
) {
  return deliverAgain(
    env,
    db,
    target,
    { event: original.payload, redeliveryOf: original.id },
    { action: 'notification_delivery.redelivered', audit },
  );
}

/** A `test` event to one target, whatever it subscribes to. */
export function sendTestEvent(
  env: Env,
  db: Database,
  target: NotificationTarget,
  project: NotificationEvent['project'],
  audit: Audit,
) {
  const event: NotificationEvent = {
    id: `test:${crypto.randomUUID()}`,
    type: 'test',
    created_at: new Date().toISOString(),
    project,
  };
  return deliverAgain(
    env,
    db,
    target,
    { event, redeliveryOf: null },
    { action: 'notification_target.tested', audit },
  );
}

export async function deliveryOf(db: Database, targetId: string, deliveryId: string) {
  const [row] = await db
    .select()
    .from(notificationDeliveries)
    .where(
      and(eq(notificationDeliveries.id, deliveryId), eq(notificationDeliveries.targetId, targetId)),
    );
  return row;
}

export function deliveriesOf(db: Database, targetId: string, limit: number) {
  return db
    .select()
    .from(notificationDeliveries)
    .where(eq(notificationDeliveries.targetId, targetId))
    .orderBy(desc(notificationDeliveries.createdAt), desc(notificationDeliveries.id))
    .limit(limit);
}
