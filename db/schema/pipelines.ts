import { sql } from 'drizzle-orm';
import { check, integer, jsonb, pgTable, unique, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id } from './columns';
import { projects } from './projects';

export const pipelines = pgTable(
  'pipelines',
  {
    ...id,
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    ...createdAt,
  },
  (t) => [
    unique('pipelines_project_id_version_key').on(t.projectId, t.version),
    check('pipelines_version_positive', sql`${t.version} > 0`),
  ],
);

export type Pipeline = typeof pipelines.$inferSelect;
export type NewPipeline = typeof pipelines.$inferInsert;
