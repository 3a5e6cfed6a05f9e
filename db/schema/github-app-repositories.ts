import { bigint, boolean, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns';
import { workspaces } from './workspaces';

/**
 * The repositories a workspace's GitHub App is installed on, kept by the app's `installation`
 * and `installation_repositories` webhook events (docs/github-app.md).
 */
export const githubAppRepositories = pgTable(
  'github_app_repositories',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    installationId: bigint('installation_id', { mode: 'number' }).notNull(),
    fullName: text('full_name').notNull(),
    cloneUrl: text('clone_url').notNull(),
    isPrivate: boolean('private').notNull().default(false),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'github_app_repositories_pkey', columns: [t.workspaceId, t.fullName] }),
  ],
);

export type GitHubAppRepository = typeof githubAppRepositories.$inferSelect;
