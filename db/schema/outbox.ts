import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';

// Written in the same transaction as the state change it announces; the relay publishes it.
export const outbox = pgTable(
  'outbox',
  {
    ...id,
    topic: text('topic').notNull(),
    payload: jsonb('payload').$type<unknown>().notNull(),
    ...createdAt,
    publishedAt: timestamptz('published_at'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [
    index('outbox_unpublished_idx').on(t.createdAt).where(sql`${t.publishedAt} is null`),
    check('outbox_attempts_nonnegative', sql`${t.attempts} >= 0`),
  ],
);

export type OutboxMessage = typeof outbox.$inferSelect;
export type NewOutboxMessage = typeof outbox.$inferInsert;
