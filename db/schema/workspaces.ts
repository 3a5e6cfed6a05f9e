import { pgTable, text } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns';
import { workspacePlan } from './enums';

export const workspaces = pgTable('workspaces', {
  ...id,
  name: text('name').notNull(),
  slug: text('slug').notNull().unique('workspaces_slug_key'),
  plan: workspacePlan('plan').notNull().default('free'),
  ...timestamps,
});

export type Workspace = typeof workspaces.$inferSelect;
export type NewWorkspace = typeof workspaces.$inferInsert;
