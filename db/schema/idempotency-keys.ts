import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { idempotencyStatus } from './enums';

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    ...id,
    // Who sent the key (e.g. the principal id): the same key from two callers is two requests.
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    status: idempotencyStatus('status').notNull().default('in_progress'),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    expiresAt: timestamptz('expires_at').notNull(),
    ...createdAt,
  },
  (t) => [
    unique('idempotency_keys_scope_key_key').on(t.scope, t.key),
    index('idempotency_keys_expires_at_idx').on(t.expiresAt),
    check(
      'idempotency_keys_completed_has_response',
      sql`${t.status} = 'in_progress' or ${t.responseStatus} is not null`,
    ),
    check('idempotency_keys_response_status_range', sql`${t.responseStatus} between 100 and 599`),
  ],
);

export type IdempotencyKey = typeof idempotencyKeys.$inferSelect;
export type NewIdempotencyKey = typeof idempotencyKeys.$inferInsert;
