import { index, pgTable, unique, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns';
import { workspaceRole } from './enums';
import { users } from './users';
import { workspaces } from './workspaces';

export const memberships = pgTable(
  'memberships',
  {
    ...id,
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: workspaceRole('role').notNull(),
    ...timestamps,
  },
  (t) => [
    unique('memberships_workspace_id_user_id_key').on(t.workspaceId, t.userId),
    index('memberships_user_id_idx').on(t.userId),
  ],
);

export type Membership = typeof memberships.$inferSelect;
export type NewMembership = typeof memberships.$inferInsert;
