import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { NotificationEvent } from '../../core/notifications/events';
import { createdAt, id, timestamps, timestamptz } from './columns';
import { notificationDeliveryStatus, notificationEvent, notificationTargetKind } from './enums';
import { projects } from './projects';

/**
 * Where a project's events are sent: a signed webhook, or a Slack or Discord incoming webhook.
 * The URL is sealed (a Slack or Discord webhook URL is itself the credential) and shown only as
 * `url_hint`; a webhook's signing secret is sealed and shown once, when the target is created.
 */
export const notificationTargets = pgTable(
  'notification_targets',
  {
    ...id,
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    kind: notificationTargetKind('kind').notNull(),
    name: text('name').notNull(),
    urlEncrypted: text('url_encrypted').notNull(),
    urlHint: text('url_hint').notNull(),
    secretEncrypted: text('secret_encrypted'),
    events: notificationEvent('events').array().notNull(),
    enabled: boolean('enabled').notNull().default(true),
    ...timestamps,
  },
  (t) => [
    index('notification_targets_project_id_idx').on(t.projectId),
    check(
      'notification_targets_secret_for_webhooks',
      sql`(${t.kind} = 'webhook') = (${t.secretEncrypted} is not null)`,
    ),
    check('notification_targets_events_nonempty', sql`cardinality(${t.events}) > 0`),
  ],
);

/** One event sent to one target: its latest attempt, and how many there were. */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    ...id,
    targetId: uuid('target_id')
      .notNull()
      .references(() => notificationTargets.id, { onDelete: 'cascade' }),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    eventType: notificationEvent('event_type').notNull(),
    eventId: text('event_id').notNull(),
    payload: jsonb('payload').$type<NotificationEvent>().notNull(),
    status: notificationDeliveryStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    responseStatus: integer('response_status'),
    responseExcerpt: text('response_excerpt'),
    error: text('error'),
    durationMs: integer('duration_ms'),
    lastAttemptAt: timestamptz('last_attempt_at'),
    deliveredAt: timestamptz('delivered_at'),
    /** Sent again by hand: the delivery it repeats (which keeps its own log). */
    redeliveryOf: uuid('redelivery_of'),
    ...createdAt,
  },
  (t) => [
    // An event announced twice (at-least-once queues) is delivered once per target.
    uniqueIndex('notification_deliveries_target_event_key')
      .on(t.targetId, t.eventId)
      .where(sql`${t.redeliveryOf} is null`),
    index('notification_deliveries_target_created_idx').on(t.targetId, t.createdAt),
    check('notification_deliveries_attempts_nonnegative', sql`${t.attempts} >= 0`),
  ],
);

export type NotificationTarget = typeof notificationTargets.$inferSelect;
export type NotificationDelivery = typeof notificationDeliveries.$inferSelect;
