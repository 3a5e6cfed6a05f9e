import { and, eq, isNull, sql } from 'drizzle-orm';
import {
  type JobResult,
  JobResultSchema,
  type LogBatch,
  type StepReport,
} from '../../core/runner-protocol';
import { createMasker } from '../../core/secret-masker';
import type { Database } from '../../db/client';
import { type Build, buildSteps, builds, outbox, type Project, projects } from '../../db/schema';
import { buildSession, runnerHub } from '../../platform/durable-objects';
import type { Logger } from '../../platform/logger';
import type { Metrics } from '../../platform/metrics';
import { DEPLOYMENTS_QUEUE, type DeploymentsMessage } from '../../platform/queues';
import type { JobClaims } from '../../platform/tokens/job-tokens';
import { recordBuildEnd, recordStepDurations } from '../metrics/record';
import { publishOutbox } from '../outbox';
import { announceBuildStatus } from '../reporting/build-status';
import { jobSecretMasker, loadJobEnvironment } from './environment';
import { closeBuildLog } from './log';
import { FINISHED_STATUSES } from './statuses';

/** A build whose current attempt a runner holds, with its project. */
export interface HeldJob {
  build: Build;
  project: Project;
}

/**
 * The build a job token names, with its project, while the token's attempt on its runner is the
 * build's current one and runs. `finished` also admits a build this attempt already ended, so a
 * repeated completion gets an answer. Undefined when the lease is gone (the job offered again).
 */
export async function heldJob(
  db: Database,
  claims: JobClaims,
  { finished = false } = {},
): Promise<HeldJob | undefined> {
  const [row] = await db
    .select({ build: builds, project: projects })
    .from(builds)
    .innerJoin(projects, eq(projects.id, builds.projectId))
    .where(
      and(
        eq(builds.id, claims.buildId),
        eq(builds.runnerId, claims.runnerId),
        eq(builds.attempt, claims.attempt),
      ),
    );
  if (!row) return undefined;
  const { status } = row.build;
  const ended = (FINISHED_STATUSES as readonly string[]).includes(status);
  return status === 'running' || (finished && ended) ? row : undefined;
}

function ofAttempt(buildId: string, attempt: number) {
  return and(eq(builds.id, buildId), eq(builds.attempt, attempt));
}

/** Records the commit a branch-head build checked out; false when the build has one already. */
export async function recordBuildCommit(
  db: Database,
  buildId: string,
  attempt: number,
  sha: string,
  committedAt?: Date,
): Promise<boolean> {
  const [recorded] = await db
    .update(builds)
    .set({ commitSha: sha })
    .where(and(ofAttempt(buildId, attempt), isNull(builds.commitSha)))
    .returning({ id: builds.id });
  if (committedAt) {
    // The webhook's timestamp, when there was one, stays: it is what the provider recorded.
    await db
      .update(builds)
      .set({ committedAt })
      .where(
        and(ofAttempt(buildId, attempt), eq(builds.commitSha, sha), isNull(builds.committedAt)),
      );
  }
  return recorded !== undefined;
}

/** Where the attempt's output lies: its archive (`artifactKey`) or its file list's manifest. */
export async function recordBuildOutput(
  db: Database,
  buildId: string,
  attempt: number,
  output: { artifactKey: string } | { outputManifestKey: string },
): Promise<void> {
  await db.update(builds).set(output).where(ofAttempt(buildId, attempt));
}

/**
 * A batch of the runner's log lines, masked again with the project's secrets before the build's
 * session stores or shows them. A batch this attempt already sent is not appended twice.
 */
export async function appendJobLog(
  env: Env,
  db: Database,
  encryptionKey: string,
  { build, project }: HeldJob,
  { lines, batch_seq: batchSeq }: LogBatch,
) {
  const { secrets } = await loadJobEnvironment(db, encryptionKey, project.id, build.target);
  return buildSession(env, build.id).append(
    lines.map((line) => ({
      stream: line.stream,
      text: line.text,
      ts: line.ts,
      ...(line.step_id !== undefined && { stepId: line.step_id }),
    })),
    {
      secrets,
      ...(batchSeq !== undefined && { batch: { attempt: build.attempt, seq: batchSeq } }),
    },
  );
}

/**
 * The runner's step plan, or a change of some steps, masked with the project's secrets: kept in
 * Postgres and shown live by the build's session.
 */
export async function reportSteps(
  env: Env,
  db: Database,
  encryptionKey: string,
  { build, project }: HeldJob,
  steps: StepReport['steps'],
): Promise<number> {
  const { secrets } = await loadJobEnvironment(db, encryptionKey, project.id, build.target);
  const mask = createMasker(secrets);
  const rows = steps.map((step) => ({
    buildId: build.id,
    position: step.position,
    name: mask(step.name),
    command: mask(step.command),
    status: step.status,
    exitCode: step.exit_code ?? null,
    startedAt: step.started_at ? new Date(step.started_at) : null,
    finishedAt: step.finished_at ? new Date(step.finished_at) : null,
  }));
  await db
    .insert(buildSteps)
    .values(rows)
    .onConflictDoUpdate({
      target: [buildSteps.buildId, buildSteps.position],
      set: {
        name: sql`excluded.name`,
        command: sql`excluded.command`,
        status: sql`excluded.status`,
        exitCode: sql`excluded.exit_code`,
        startedAt: sql`excluded.started_at`,
        finishedAt: sql`excluded.finished_at`,
      },
    });
  await buildSession(env, build.id).setSteps(steps, { secrets });
  return rows.length;
}

/**
 * Ends a running attempt with the runner's result (its error masked); a succeeded build announces
 * `build.succeeded` to the deploy engine (outbox, same transaction). Published messages, if any.
 */
async function endBuild(
  env: Env,
  db: Database,
  encryptionKey: string,
  { build, project }: HeldJob,
  result: JobResult,
  traceparent: string | null,
) {
  const mask = await jobSecretMasker(db, encryptionKey, project.id, build.target);
  const error = result.error === undefined ? null : mask(result.error);
  const { ended, published } = await db.transaction(async (tx) => {
    const [ended] = await tx
      .update(builds)
      .set({
        status: result.status,
        finishedAt: new Date(),
        error: result.status === 'succeeded' ? null : error,
      })
      .where(and(ofAttempt(build.id, build.attempt), eq(builds.status, 'running')))
      .returning();
    if (ended?.status !== 'succeeded') return { ended, published: [] };
    const message: DeploymentsMessage = {
      type: 'build.succeeded',
      build_id: ended.id,
      project_id: ended.projectId,
      target: ended.target,
      artifact_key: ended.artifactKey,
      ...(traceparent ? { traceparent } : {}),
    };
    const rows = await tx
      .insert(outbox)
      .values({ topic: DEPLOYMENTS_QUEUE, payload: message })
      .returning();
    return { ended, published: rows };
  });
  await publishOutbox(env, db, published);
  return ended;
}

/**
 * The runner's result, idempotent: a running build ends with it and reports its commit status;
 * then the lease ends and the log is closed. The status the build has now (the first result's,
 * on a repeat).
 */
export async function completeJob(
  env: Env,
  db: Database,
  encryptionKey: string,
  job: HeldJob,
  result: JobResult,
  {
    logger,
    metrics,
    traceparent,
  }: { logger: Logger; metrics: Metrics; traceparent: string | null },
) {
  const { build, project } = job;
  if (build.status === 'running') {
    const ended = await endBuild(env, db, encryptionKey, job, result, traceparent);
    if (ended) {
      recordBuildEnd(metrics, ended, project.workspaceId);
      await recordStepDurations(db, metrics, ended);
    }
    await announceBuildStatus(env, [build.id], logger);
  }
  await runnerHub(env, project.workspaceId).complete(build.id, build.attempt);
  const [final] = await db
    .select({ status: builds.status })
    .from(builds)
    .where(eq(builds.id, build.id));
  const status = JobResultSchema.shape.status.parse(final?.status);
  await closeBuildLog(env, db, build.id, status);
  return status;
}
