import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uuid,
} from 'drizzle-orm/pg-core';
import { builds } from './builds';
import { id, timestamps, timestamptz } from './columns';
import { deploymentStage, deploymentStatus, deploymentStrategy } from './enums';
import { environments } from './environments';
import { projects } from './projects';

export const deployments = pgTable(
  'deployments',
  {
    ...id,
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    // No cascade: a build that was deployed stays as long as its deployment history does.
    buildId: uuid('build_id')
      .notNull()
      .references(() => builds.id),
    environmentId: uuid('environment_id')
      .notNull()
      .references(() => environments.id, { onDelete: 'cascade' }),
    stage: deploymentStage('stage').notNull(),
    strategy: deploymentStrategy('strategy').notNull().default('all_at_once'),
    platform: text('platform').notNull(),
    status: deploymentStatus('status').notNull().default('queued'),
    url: text('url'),
    // The short label in the deployment's own host name (`<label>--<project>.<domain>`).
    label: text('label')
      .notNull()
      .unique('deployments_label_key')
      .default(sql`substr(md5(gen_random_uuid()::text), 1, 12)`),
    // The edge host's manifest in R2, for deployments it serves.
    manifestKey: text('manifest_key'),
    // An external platform's handle on this deployment (its id, URL, data), for status and rollback.
    providerRef: jsonb('provider_ref').$type<{
      id: string;
      url?: string;
      data?: Record<string, string | string[]>;
    }>(),
    healthResults: jsonb('health_results').$type<unknown[]>().notNull().default([]),
    // What asked for it (e.g. `build:<id>`): a redelivered request finds the deployment it made.
    requestKey: text('request_key').unique('deployments_request_key_key'),
    // A canary's current share of production traffic, while it steps up.
    canaryPercent: integer('canary_percent'),
    // A canary step serving until then: the engine leaves it (the environment stays locked) and a
    // delayed message, or the cron as a safety net, resumes it.
    resumeAt: timestamptz('resume_at'),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    // Ended by the deploy engine, and its outcome not yet notified and reported on the commit:
    // set in the transaction that ends it, cleared once both are done, so a consumer that dies
    // in between leaves it to the cron (`reportPendingOutcomes`).
    reportPending: boolean('report_pending').notNull().default(false),
    error: text('error'),
    rolledBackFromId: uuid('rolled_back_from_id').references((): AnyPgColumn => deployments.id, {
      onDelete: 'set null',
    }),
    rolledBackToId: uuid('rolled_back_to_id').references((): AnyPgColumn => deployments.id, {
      onDelete: 'set null',
    }),
    // The deployment this one promotes (`POST /api/deployments/{id}/promote`): an external
    // platform with native promote switches production to that deployment instead of redeploying.
    // The W3C trace context the deployment was asked for in (the build's, for the deployment a
    // build makes on its own): the deploy engine's spans are its children.
    traceparent: text('traceparent'),
    promotedFromId: uuid('promoted_from_id').references((): AnyPgColumn => deployments.id, {
      onDelete: 'set null',
    }),
    ...timestamps,
  },
  (t) => [
    index('deployments_environment_id_created_at_idx').on(t.environmentId, t.createdAt),
    index('deployments_project_id_created_at_idx').on(t.projectId, t.createdAt),
    index('deployments_build_id_idx').on(t.buildId),
    // The cron's look for outcomes a dead consumer left unreported: few rows, if any.
    index('deployments_report_pending_idx').on(t.updatedAt).where(sql`${t.reportPending}`),
    check(
      'deployments_rollback_not_self',
      sql`${t.rolledBackFromId} <> ${t.id} and ${t.rolledBackToId} <> ${t.id}`,
    ),
  ],
);

/** Every state change of a deployment, with its time and reason: the history the API shows. */
export const deploymentTransitions = pgTable(
  'deployment_transitions',
  {
    ...id,
    deploymentId: uuid('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    fromStatus: deploymentStatus('from_status'),
    toStatus: deploymentStatus('to_status').notNull(),
    reason: text('reason'),
    at: timestamptz('at').notNull().defaultNow(),
  },
  (t) => [index('deployment_transitions_deployment_id_at_idx').on(t.deploymentId, t.at)],
);

export type Deployment = typeof deployments.$inferSelect;
export type NewDeployment = typeof deployments.$inferInsert;
