import { relations } from 'drizzle-orm';
import { pgTable, text } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns';
import { workspacePlan } from './enums';
import { invites } from './invites';
import { memberships } from './memberships';
import { projects } from './projects';
import { runners } from './runners';

export const workspaces = pgTable('workspaces', {
  ...id,
  name: text('name').notNull(),
  slug: text('slug').notNull().unique('workspaces_slug_key'),
  plan: workspacePlan('plan').notNull().default('free'),
  ...timestamps,
});

export const workspacesRelations = relations(workspaces, ({ many }) => ({
  memberships: many(memberships),
  invites: many(invites),
  projects: many(projects),
  runners: many(runners),
}));

export type Workspace = typeof workspaces.$inferSelect;
export type NewWorkspace = typeof workspaces.$inferInsert;
