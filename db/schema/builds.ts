import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  check,
  index,
  integer,
  pgTable,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, id, timestamps, timestamptz } from './columns';
import { buildStatus, buildStepStatus, buildTrigger, environmentKind } from './enums';
import { projects } from './projects';
import { runners } from './runners';

export const builds = pgTable(
  'builds',
  {
    ...id,
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    // Null for a branch build started without a commit until its runner reports the head it
    // checked out.
    commitSha: text('commit_sha'),
    branch: text('branch'),
    commitMessage: text('commit_message'),
    // The commit's own timestamp (the webhook's, or what the runner read at checkout): where a
    // change's lead time starts (docs/dora.md).
    committedAt: timestamptz('committed_at'),
    trigger: buildTrigger('trigger').notNull(),
    // Production when built from the production branch; everything else is a preview.
    target: environmentKind('target').notNull().default('preview'),
    tag: text('tag'),
    pullRequest: integer('pull_request'),
    // When the branch was deleted (or the pull request closed): the build's previews retire, and
    // one still deploying then retires as soon as it is done.
    refClosedAt: timestamptz('ref_closed_at'),
    status: buildStatus('status').notNull().default('queued'),
    runnerId: uuid('runner_id').references(() => runners.id, { onDelete: 'set null' }),
    // Each lease a runner gets is one attempt; a job token names its attempt, so a runner
    // that lost its lease is refused after the job was offered again.
    attempt: integer('attempt').notNull().default(0),
    retryOf: uuid('retry_of').references((): AnyPgColumn => builds.id, { onDelete: 'set null' }),
    cancelRequestedAt: timestamptz('cancel_requested_at'),
    // R2 keys, once the build has produced them.
    artifactKey: text('artifact_key'),
    // The output uploaded content-addressed: a manifest in SITES whose blobs are all stored.
    outputManifestKey: text('output_manifest_key'),
    logKey: text('log_key'),
    queuedAt: timestamptz('queued_at').notNull().defaultNow(),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    error: text('error'),
    // The W3C trace context of the request that started the build: its pipeline run's trace.
    traceparent: text('traceparent'),
    ...timestamps,
  },
  (t) => [
    unique('builds_project_id_number_key').on(t.projectId, t.number),
    index('builds_project_id_status_idx').on(t.projectId, t.status),
    index('builds_project_id_branch_created_at_idx').on(t.projectId, t.branch, t.createdAt),
    index('builds_project_id_pull_request_idx').on(t.projectId, t.pullRequest),
    index('builds_runner_id_idx').on(t.runnerId),
    check('builds_number_positive', sql`${t.number} > 0`),
    check('builds_attempt_nonnegative', sql`${t.attempt} >= 0`),
    check('builds_commit_sha_not_empty', sql`${t.commitSha} <> ''`),
    check('builds_commit_or_branch', sql`${t.commitSha} is not null or ${t.branch} is not null`),
  ],
);

export const buildSteps = pgTable(
  'build_steps',
  {
    ...id,
    buildId: uuid('build_id')
      .notNull()
      .references(() => builds.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    name: text('name').notNull(),
    command: text('command').notNull(),
    status: buildStepStatus('status').notNull().default('pending'),
    exitCode: integer('exit_code'),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    ...createdAt,
  },
  (t) => [
    unique('build_steps_build_id_position_key').on(t.buildId, t.position),
    check('build_steps_position_nonnegative', sql`${t.position} >= 0`),
  ],
);

export type Build = typeof builds.$inferSelect;
export type NewBuild = typeof builds.$inferInsert;
export type BuildStep = typeof buildSteps.$inferSelect;
export type NewBuildStep = typeof buildSteps.$inferInsert;
