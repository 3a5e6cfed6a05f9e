import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { projects } from './projects';

/** Custom domains that serve a project's production deployment. */
export const domains = pgTable(
  'domains',
  {
    ...id,
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    hostname: text('hostname').notNull().unique('domains_hostname_key'),
    verifiedAt: timestamptz('verified_at'),
    ...createdAt,
  },
  (t) => [
    index('domains_project_id_idx').on(t.projectId),
    check('domains_hostname_lowercase', sql`${t.hostname} = lower(${t.hostname})`),
  ],
);

export type Domain = typeof domains.$inferSelect;
