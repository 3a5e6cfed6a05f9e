import { bigint, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns';
import { users } from './users';
import { workspaces } from './workspaces';

/**
 * The GitHub App a workspace created from Sparki's manifest (docs/github-app.md). GitHub hands
 * its credentials over once, at the manifest conversion; the secret ones are kept sealed with
 * ENCRYPTION_KEY (core/secret-box.ts) and never shown again.
 */
export const githubApps = pgTable('github_apps', {
  workspaceId: uuid('workspace_id')
    .primaryKey()
    .references(() => workspaces.id, { onDelete: 'cascade' }),
  appId: bigint('app_id', { mode: 'number' }).notNull(),
  slug: text('slug').notNull(),
  htmlUrl: text('html_url').notNull(),
  clientId: text('client_id').notNull(),
  clientSecretEncrypted: text('client_secret_encrypted').notNull(),
  privateKeyEncrypted: text('private_key_encrypted').notNull(),
  webhookSecretEncrypted: text('webhook_secret_encrypted').notNull(),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
});

export type GitHubAppRow = typeof githubApps.$inferSelect;
