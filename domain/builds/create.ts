import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { resolveProjectSettings } from '../../core/project-settings';
import { childContext, formatTraceparent } from '../../core/trace/context';
import type { Database, Transaction } from '../../db/client';
import { type Build, builds, type OutboxMessage, outbox, projects } from '../../db/schema';
import { runnerHub } from '../../platform/durable-objects';
import type { Logger } from '../../platform/logger';
import type { Metrics } from '../../platform/metrics';
import { BUILDS_QUEUE, type BuildsMessage } from '../../platform/queues';
import { publishOutbox } from '../outbox';
import { announceBuildStatus } from '../reporting/build-status';
import { closeBuildLog } from './log';
import { WAITING_STATUSES } from './statuses';

type Trigger = Build['trigger'];

// A retry or a tag build is asked for on purpose and never cancels anything else.
const SUPERSEDING_TRIGGERS: ReadonlySet<Trigger> = new Set([
  'push',
  'pull_request',
  'manual',
  'api',
]);

export interface BuildRequest {
  projectId: string;
  /** A full commit sha, or BRANCH_HEAD for the head of `branch` at checkout time. */
  commitSha: string | null;
  branch: string | null;
  trigger: Trigger;
  target: Build['target'];
  tag?: string | null;
  pullRequest?: number | null;
  commitMessage?: string | null;
  committedAt?: Date | null;
  retryOf?: string | null;
  /**
   * The trace context of the request that asks for the build (its span is the root of the
   * pipeline run's trace); a new trace when it has none (a head a runner's poll found).
   */
  traceparent?: string | null;
}

export interface CreatedBuild {
  build: Build;
  workspaceId: string;
  /** Waiting builds of the same branch this one canceled. */
  superseded: string[];
  message: OutboxMessage;
}

/**
 * `commit_sha` of a branch build started without a commit: the runner fetches the branch, builds
 * the head it finds and reports that sha back (`POST /api/jobs/{id}/commit`), which then fills
 * the column. Until then nothing can be reported on the commit (statuses, deploy comments).
 */
export const BRANCH_HEAD = null;

/** Production for the production branch; tags, commits without a branch and the rest: preview. */
export function targetFor(
  project: { productionBranch: string },
  branch: string | null,
): Build['target'] {
  return branch === project.productionBranch ? 'production' : 'preview';
}

/**
 * Locks the project row until the transaction ends: builds of one project are numbered, and
 * webhook deliveries deduplicated, one transaction at a time. A transaction must take it before
 * writing any row that references the project: that insert takes a share lock on the project
 * row, and two transactions each holding one and both asking for this lock deadlock.
 */
export async function lockProject(tx: Transaction, projectId: string) {
  const [project] = await tx
    .select({ workspaceId: projects.workspaceId, settings: projects.settings })
    .from(projects)
    .where(eq(projects.id, projectId))
    .for('update');
  return project;
}

/** The number the project's next build gets; take `lockProject` first. */
export async function nextBuildNumber(tx: Transaction, projectId: string): Promise<number> {
  const [next] = await tx
    .select({ number: sql`coalesce(max(${builds.number}), 0) + 1`.mapWith(Number) })
    .from(builds)
    .where(eq(builds.projectId, projectId));
  return next?.number ?? 1;
}

/**
 * Writes a build, its `build.requested` outbox row and any supersede cancellations in the
 * caller's transaction. The project row is locked first (`lockProject`), so concurrent builds
 * of one project get consecutive numbers instead of colliding on the unique (project, number).
 */
export async function createBuild(tx: Transaction, request: BuildRequest): Promise<CreatedBuild> {
  const project = await lockProject(tx, request.projectId);
  if (!project) throw new Error(`Project ${request.projectId} does not exist`);
  const number = await nextBuildNumber(tx, request.projectId);
  const traceparent = request.traceparent ?? formatTraceparent(childContext(undefined));
  const [build] = await tx
    .insert(builds)
    .values({ ...request, traceparent, number })
    .returning();
  if (!build) throw new Error('Build insert returned nothing');

  let superseded: string[] = [];
  if (
    request.branch !== null &&
    SUPERSEDING_TRIGGERS.has(request.trigger) &&
    resolveProjectSettings(project.settings).cancel_superseded
  ) {
    const canceled = await tx
      .update(builds)
      .set({ status: 'canceled', error: `superseded by #${number}`, finishedAt: new Date() })
      .where(
        and(
          eq(builds.projectId, request.projectId),
          eq(builds.branch, request.branch),
          inArray(builds.status, [...WAITING_STATUSES]),
          ne(builds.id, build.id),
        ),
      )
      .returning({ id: builds.id });
    superseded = canceled.map((row) => row.id);
  }

  const payload: BuildsMessage = { type: 'build.requested', buildId: build.id, traceparent };
  const [message] = await tx.insert(outbox).values({ topic: BUILDS_QUEUE, payload }).returning();
  if (!message) throw new Error('Outbox insert returned nothing');
  return { build, workspaceId: project.workspaceId, superseded, message };
}

/**
 * After commit: the message goes to the queue now (the cron relay resends it if this fails),
 * superseded builds leave the RunnerHub's queue, and the new (pending) and superseded (canceled)
 * builds' commit statuses are announced.
 */
export async function announceBuilds(
  env: Env,
  db: Database,
  created: CreatedBuild[],
  { logger, metrics }: { logger: Logger; metrics: Metrics },
): Promise<void> {
  if (created.length === 0) return;
  for (const { build, workspaceId, superseded } of created) {
    for (const _ of superseded) {
      metrics.record({
        type: 'build_finished',
        result: 'canceled',
        projectId: build.projectId,
        workspaceId,
      });
    }
  }
  const result = await publishOutbox(
    env,
    db,
    created.map((entry) => entry.message),
  ).catch((error: unknown) => {
    logger.warn('build_publish_deferred', { error });
    return undefined;
  });
  if (result?.failed) logger.warn('build_publish_deferred', { failed: result.failed });
  for (const entry of created) {
    await endWaitingBuilds(env, db, entry.workspaceId, entry.superseded, logger);
  }
  await announceBuildStatus(
    env,
    created.flatMap((entry) => [entry.build.id, ...entry.superseded]),
    logger,
  );
}

/**
 * Takes canceled builds off the RunnerHub's queue. The hub never leases a build that is no
 * longer waiting in Postgres, so a failure here leaves a stale entry, never a run.
 */
/**
 * Builds canceled before any runner took them: they leave the RunnerHub's queue, and their logs
 * end (archived, viewers told) as a runner's end would have ended them. Best effort: never throws.
 */
export async function endWaitingBuilds(
  env: Env,
  db: Database,
  workspaceId: string,
  buildIds: string[],
  logger: Logger,
): Promise<void> {
  for (const buildId of buildIds) {
    await runnerHub(env, workspaceId)
      .withdraw(buildId)
      .catch((error: unknown) => logger.warn('hub_withdraw_failed', { build_id: buildId, error }));
    await closeBuildLog(env, db, buildId, 'canceled').catch((error: unknown) =>
      logger.warn('build_log_close_failed', { build_id: buildId, error }),
    );
  }
}
