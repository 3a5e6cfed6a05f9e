import { index, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { webhookDeliveryStatus, webhookProvider } from './enums';
import { projects } from './projects';

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    ...id,
    provider: webhookProvider('provider').notNull(),
    deliveryId: text('delivery_id').notNull(),
    event: text('event').notNull(),
    projectId: uuid('project_id').references(() => projects.id, { onDelete: 'set null' }),
    status: webhookDeliveryStatus('status').notNull().default('received'),
    payloadSha256: text('payload_sha256').notNull(),
    receivedAt: timestamptz('received_at').notNull().defaultNow(),
    processedAt: timestamptz('processed_at'),
    error: text('error'),
    ...createdAt,
  },
  (t) => [
    // Providers redeliver; inserting on conflict do nothing is the dedupe. Per project: GitHub's
    // delivery id names the event, and one event reaches every hook of the repository.
    unique('webhook_deliveries_project_id_provider_delivery_id_key').on(
      t.projectId,
      t.provider,
      t.deliveryId,
    ),
    index('webhook_deliveries_project_id_received_at_idx').on(t.projectId, t.receivedAt),
    // A signed body sent again under a fresh delivery id is a replay (workers/webhooks).
    index('webhook_deliveries_project_id_payload_sha256_idx').on(t.projectId, t.payloadSha256),
  ],
);

export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type NewWebhookDelivery = typeof webhookDeliveries.$inferInsert;
