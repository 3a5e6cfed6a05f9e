import { z } from '@hono/zod-openapi';
import {
  NOTIFICATION_EVENT_TYPES,
  NOTIFICATION_EVENTS,
  TARGET_KINDS,
} from '../../../core/notifications/events';
import type { NotificationDelivery, NotificationTarget } from '../../../db/schema';
import { iso } from '../../openapi';
import { ProjectParams } from './schemas';

const EventsSchema = z
  .array(z.enum(NOTIFICATION_EVENTS))
  .min(1)
  .refine((events) => new Set(events).size === events.length, 'each event at most once')
  .openapi({ example: ['build.failed', 'deployment.rolled_back'] });

export const NotificationTargetSchema = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    kind: z.enum(TARGET_KINDS).openapi({
      description:
        '`webhook`: the event as JSON, signed (`Sparki-Signature`); `slack` / `discord`: a ' +
        'message for an incoming webhook of that service',
    }),
    name: z.string(),
    url_hint: z.string().openapi({
      description:
        'The stored URL is never returned: a webhook shows its origin and path, a Slack or ' +
        'Discord webhook (whose URL is its credential) only its origin',
      example: 'https://hooks.slack.com/…',
    }),
    events: z.array(z.enum(NOTIFICATION_EVENTS)),
    enabled: z.boolean(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('NotificationTarget');

export const CreatedTargetSchema = z
  .object({
    target: NotificationTargetSchema,
    secret: z.string().nullable().openapi({
      description:
        'The webhook’s signing secret, shown only in this answer (null for Slack and Discord)',
      example: 'nsec_…',
    }),
  })
  .openapi('CreatedNotificationTarget');

export const CreateTargetSchema = z
  .strictObject({
    kind: z.enum(TARGET_KINDS),
    name: z.string().trim().min(1).max(100),
    url: z
      .string()
      .min(1)
      .openapi({
        description:
          'https:// and a public host in production; the local stack also accepts http:// on a ' +
          'loopback host',
        example: 'https://example.com/hooks/sparki',
      }),
    events: EventsSchema,
  })
  .openapi('CreateNotificationTarget');

export const UpdateTargetSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    events: EventsSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .openapi('UpdateNotificationTarget');

export const NotificationDeliverySchema = z
  .object({
    id: z.uuid(),
    target_id: z.uuid(),
    event_type: z.enum(NOTIFICATION_EVENT_TYPES),
    event_id: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']).openapi({
      description: '`pending` while attempts are left (or the first is on its way)',
    }),
    attempts: z.number().int(),
    response_status: z.number().int().nullable(),
    response_excerpt: z.string().nullable().openapi({
      description: 'The first 500 characters of the receiver’s last answer',
    }),
    error: z.string().nullable(),
    duration_ms: z.number().int().nullable(),
    last_attempt_at: z.iso.datetime().nullable(),
    delivered_at: z.iso.datetime().nullable(),
    redelivery_of: z.uuid().nullable(),
    created_at: z.iso.datetime(),
    payload: z.record(z.string(), z.unknown()).openapi({ description: 'The event as sent' }),
  })
  .openapi('NotificationDelivery');

export const TargetParams = ProjectParams.extend({ target_id: z.uuid() });
export const DeliveryParams = TargetParams.extend({ delivery_id: z.uuid() });

export function toTarget(row: NotificationTarget) {
  return {
    id: row.id,
    project_id: row.projectId,
    kind: row.kind,
    name: row.name,
    url_hint: row.urlHint,
    events: row.events.filter((event) => event !== 'test'),
    enabled: row.enabled,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toDelivery(row: NotificationDelivery) {
  return {
    id: row.id,
    target_id: row.targetId,
    event_type: row.eventType,
    event_id: row.eventId,
    status: row.status,
    attempts: row.attempts,
    response_status: row.responseStatus,
    response_excerpt: row.responseExcerpt,
    error: row.error,
    duration_ms: row.durationMs,
    last_attempt_at: iso(row.lastAttemptAt),
    delivered_at: iso(row.deliveredAt),
    redelivery_of: row.redeliveryOf,
    created_at: row.createdAt.toISOString(),
    payload: row.payload as unknown as Record<string, unknown>,
  };
}
