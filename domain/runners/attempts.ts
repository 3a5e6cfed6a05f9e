import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { builds } from '../../db/schema';
import type { Config } from '../../platform/config';
import { buildSession } from '../../platform/durable-objects';
import type { Logger } from '../../platform/logger';
import { signingKeys } from '../../platform/tokens/access-tokens';
import { type JobClaims, signJobToken } from '../../platform/tokens/job-tokens';
import { closeBuildLog } from '../builds/log';
import { WAITING_STATUSES } from '../builds/statuses';
import { announceBuildStatus } from '../reporting/build-status';

/**
 * An attempt is one run of a build on one runner, held by a RunnerHub lease. These are its
 * records in Postgres; the hub keeps the lease itself.
 */

/** What an attempt ending without a result leaves the build as. */
export type EndedAs = 'planned' | 'canceled' | 'failed' | 'timed_out';

/** How an attempt without a result is closed: `requeue` (its build waits again) or an end. */
export type AttemptOutcome = 'requeue' | { status: 'failed' | 'timed_out'; error: string };

/**
 * Attempt N+1: the build runs on this runner from `startedAt`; `traceparent` (the lease's span)
 * is the trace context its job spec hands the runner. Returns the attempt's number and when the
 * build was queued, or undefined when the build is no longer waiting (canceled or finished
 * meanwhile).
 */
export async function startAttempt(
  db: Database,
  buildId: string,
  runnerId: string,
  startedAt: Date,
  { traceparent }: { traceparent?: string } = {},
): Promise<{ attempt: number; queuedAt: Date } | undefined> {
  const [row] = await db
    .update(builds)
    .set({
      status: 'running',
      runnerId,
      attempt: sql`${builds.attempt} + 1`,
      startedAt,
      ...(traceparent ? { traceparent } : {}),
    })
    .where(
      and(
        eq(builds.id, buildId),
        inArray(builds.status, [...WAITING_STATUSES]),
        isNull(builds.cancelRequestedAt),
      ),
    )
    .returning({ attempt: builds.attempt, queuedAt: builds.queuedAt });
  return row;
}

/** The runner's credential for one attempt, valid as long as the attempt may last. */
export async function attemptToken(
  config: Config,
  claims: JobClaims,
  lifetimeMs: number,
): Promise<string> {
  return signJobToken(
    await signingKeys(config.JWT_SIGNING_KEYS),
    config.PUBLIC_URL,
    claims,
    lifetimeMs / 1000,
  );
}

/**
 * Ends the attempt, if it is still the build's running one. `requeue` makes the build wait for a
 * runner again, unless a cancel was requested: then it ends as canceled (no runner would take it
 * again). Returns the build's new status, or undefined when it had finished meanwhile (left as
 * it is). Throws when Postgres cannot be reached.
 */
export async function endAttempt(
  db: Database,
  attempt: { buildId: string; attempt: number },
  outcome: AttemptOutcome,
): Promise<EndedAs | undefined> {
  const change =
    outcome === 'requeue'
      ? {
          status: sql<EndedAs>`CASE WHEN ${builds.cancelRequestedAt} IS NULL THEN 'planned' ELSE 'canceled' END::build_status`,
          runnerId: null,
          finishedAt: sql<Date | null>`CASE WHEN ${builds.cancelRequestedAt} IS NULL THEN NULL ELSE now() END`,
        }
      : { ...outcome, finishedAt: new Date() };
  const [updated] = await db
    .update(builds)
    .set(change)
    .where(
      and(
        eq(builds.id, attempt.buildId),
        eq(builds.status, 'running'),
        eq(builds.attempt, attempt.attempt),
      ),
    )
    .returning({ status: builds.status });
  return updated && (updated.status as EndedAs);
}

export interface AttemptReportDeps {
  env: Env;
  logger: Logger;
  withDb<T>(task: (db: Database) => Promise<T>): Promise<T>;
}

/**
 * After an attempt ended without a result: a system line in the build's log says why the build
 * waits again or ended, a build that ended here gets its log closed, and its commit status is
 * announced. Best effort: never throws.
 */
export async function reportAttemptEnd(
  { env, logger, withDb }: AttemptReportDeps,
  buildId: string,
  status: EndedAs,
  text: string,
): Promise<void> {
  await buildSession(env, buildId)
    .append([{ stream: 'system', text, ts: Date.now() }])
    .catch((error: unknown) => logger.warn('build_note_failed', { build_id: buildId, error }));
  if (status !== 'planned') {
    await withDb((db) => closeBuildLog(env, db, buildId, status)).catch((error: unknown) =>
      logger.warn('build_log_close_failed', { build_id: buildId, error }),
    );
  }
  await announceBuildStatus(env, [buildId], logger);
}
