import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { users } from './users';
import { workspaces } from './workspaces';

/** Workspace-scoped secrets a new runner exchanges for its own runner token. */
export const runnerRegistrationTokens = pgTable(
  'runner_registration_tokens',
  {
    ...id,
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique('runner_registration_tokens_token_hash_key'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: timestamptz('expires_at').notNull(),
    revokedAt: timestamptz('revoked_at'),
    ...createdAt,
  },
  (t) => [index('runner_registration_tokens_workspace_id_idx').on(t.workspaceId)],
);

export type RunnerRegistrationToken = typeof runnerRegistrationTokens.$inferSelect;
