import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps, timestamptz } from './columns';
import { runnerStatus } from './enums';
import { workspaces } from './workspaces';

export const runners = pgTable(
  'runners',
  {
    ...id,
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    labels: text('labels').array().notNull().default([]),
    capacity: integer('capacity').notNull().default(1),
    tokenHash: text('token_hash').notNull().unique('runners_token_hash_key'),
    status: runnerStatus('status').notNull().default('offline'),
    lastSeenAt: timestamptz('last_seen_at'),
    disabledAt: timestamptz('disabled_at'),
    version: text('version'),
    ...timestamps,
  },
  (t) => [
    index('runners_workspace_id_idx').on(t.workspaceId),
    check('runners_capacity_positive', sql`${t.capacity} > 0`),
  ],
);

export type Runner = typeof runners.$inferSelect;
export type NewRunner = typeof runners.$inferInsert;
