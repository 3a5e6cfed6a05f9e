import { relations, sql } from 'drizzle-orm';
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

export const pipelinesRelations = relations(pipelines, ({ one }) => ({
  project: one(projects, { fields: [pipelines.projectId], references: [projects.id] }),
}));

export type Pipeline = typeof pipelines.$inferSelect;
export type NewPipeline = typeof pipelines.$inferInsert;
