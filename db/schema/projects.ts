import { index, jsonb, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import type { DetectionReport } from '../../core/runner-protocol';
import { id, timestamps } from './columns';
import { gitProvider } from './enums';
import { workspaces } from './workspaces';

export const projects = pgTable(
  'projects',
  {
    ...id,
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    gitProvider: gitProvider('git_provider').notNull().default('none'),
    repoUrl: text('repo_url'),
    productionBranch: text('production_branch').notNull().default('main'),
    rootDir: text('root_dir').notNull().default(''),
    // The framework the newest build detected, and that detection's summary with the build.
    framework: text('framework'),
    detection: jsonb('detection').$type<ProjectDetection>(),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    webhookSecretEncrypted: text('webhook_secret_encrypted'),
    // Credentials for reporting commit statuses back (a GitHub App, or a GitLab/Gitea token),
    // AES-GCM encrypted as one JSON document.
    gitCredentialsEncrypted: text('git_credentials_encrypted'),
    // The project's name under the hosting domain; unique across workspaces.
    hostLabel: text('host_label').unique('projects_host_label_key'),
    ...timestamps,
  },
  (t) => [
    unique('projects_workspace_id_slug_key').on(t.workspaceId, t.slug),
    // Incoming webhooks are matched to projects by repository.
    index('projects_git_provider_repo_url_idx').on(t.gitProvider, t.repoUrl),
  ],
);

/** A build's detection as recorded on its project. */
export interface ProjectDetection extends DetectionReport {
  build_id: string;
  build_number: number;
  detected_at: string;
}

export type Project = typeof projects.$inferSelect;
export type NewProject = typeof projects.$inferInsert;
