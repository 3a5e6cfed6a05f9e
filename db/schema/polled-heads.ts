import { pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns';
import { projects } from './projects';

/**
 * The branch heads a runner last reported for a polled repository (core/repo-polling.ts): the
 * next report is compared with them, so a moved head is built once and a branch that is gone
 * retires its previews, whichever runner polls and however often it restarted.
 */
export const polledHeads = pgTable(
  'polled_heads',
  {
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    branch: text('branch').notNull(),
    sha: text('sha').notNull(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'polled_heads_pkey', columns: [t.projectId, t.branch] })],
);

export type PolledHead = typeof polledHeads.$inferSelect;
