import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { workspaceRole } from './enums';
import { users } from './users';
import { workspaces } from './workspaces';

export const invites = pgTable(
  'invites',
  {
    ...id,
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: workspaceRole('role').notNull(),
    tokenHash: text('token_hash').notNull().unique('invites_token_hash_key'),
    expiresAt: timestamptz('expires_at').notNull(),
    acceptedAt: timestamptz('accepted_at'),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    ...createdAt,
  },
  (t) => [
    index('invites_workspace_id_email_idx').on(t.workspaceId, t.email),
    check('invites_email_lowercase', sql`${t.email} = lower(${t.email})`),
  ],
);

export type Invite = typeof invites.$inferSelect;
export type NewInvite = typeof invites.$inferInsert;
