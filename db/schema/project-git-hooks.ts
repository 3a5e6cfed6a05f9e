import { sql } from 'drizzle-orm';
import { bigint, check, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns';
import { gitProvider } from './enums';
import { projects } from './projects';

/**
 * The repository webhook Sparki created on a GitLab or Gitea server for a project, with a token the
 * user supplied once (docs/webhooks.md, "Created by Sparki"). The token is not kept: this records
 * where the hook is, so the dashboard can show it and a later request (with a token again) can
 * update or delete it.
 */
export const projectGitHooks = pgTable(
  'project_git_hooks',
  {
    ...id,
    projectId: uuid('project_id')
      .notNull()
      .unique('project_git_hooks_project_id_key')
      .references(() => projects.id, { onDelete: 'cascade' }),
    provider: gitProvider('provider').notNull(),
    apiBase: text('api_base').notNull(),
    repository: text('repository').notNull(),
    hookId: bigint('hook_id', { mode: 'number' }).notNull(),
    /** The payload URL the hook sends to. */
    url: text('url').notNull(),
    /** SHA-256 of the webhook secret the hook was given: tells whether a rotation left it behind. */
    secretSha256: text('secret_sha256').notNull(),
    ...timestamps,
  },
  (t) => [check('project_git_hooks_provider_check', sql`${t.provider} in ('gitlab', 'gitea')`)],
);

export type ProjectGitHook = typeof projectGitHooks.$inferSelect;
