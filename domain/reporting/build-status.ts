import { eq } from 'drizzle-orm';
import { type Build, builds } from '../../db/schema';
import type { Logger } from '../../platform/logger';
import type { BuildsMessage } from '../../platform/queues';
import type { CommitState, CommitStatus } from './commit-status';
import { type ReportDeps, reportToRepository } from './report';

export const BUILD_STATUS_CONTEXT = 'sparki/build';

const STATES: Record<Build['status'], CommitState> = {
  queued: 'pending',
  planned: 'pending',
  running: 'running',
  succeeded: 'success',
  failed: 'failure',
  timed_out: 'failure',
  canceled: 'canceled',
};

export type ReportedBuild = Pick<
  Build,
  'id' | 'number' | 'status' | 'commitSha' | 'error' | 'attempt' | 'startedAt' | 'finishedAt'
>;

/** `41 s`, `2 min 5 s`, `1 h 3 min`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

function describe(build: ReportedBuild): string {
  const name = `Build #${build.number}`;
  const took =
    build.startedAt && build.finishedAt
      ? formatDuration(build.finishedAt.getTime() - build.startedAt.getTime())
      : undefined;
  const reason = build.error?.replace(/\s+/g, ' ').trim();
  switch (build.status) {
    case 'queued':
    case 'planned':
      return `${name} is waiting for a runner`;
    case 'running':
      return build.attempt > 1
        ? `${name} is running (attempt ${build.attempt})`
        : `${name} is running`;
    case 'succeeded':
      return took ? `${name} succeeded in ${took}` : `${name} succeeded`;
    case 'failed':
      return reason ? `${name} failed: ${reason}` : `${name} failed${took ? ` after ${took}` : ''}`;
    case 'timed_out':
      return reason ? `${name} timed out: ${reason}` : `${name} timed out`;
    case 'canceled':
      return reason ? `${name} was canceled: ${reason}` : `${name} was canceled`;
  }
}

/**
 * The `sparki/build` status of a build as it is now, linking to its log; none for a build without
 * a commit (a branch head the runner resolves at checkout: no sha to put a status on).
 */
export function buildCommitStatus(
  build: ReportedBuild,
  publicUrl: string,
): CommitStatus | undefined {
  if (!build.commitSha) return undefined;
  return {
    sha: build.commitSha,
    state: STATES[build.status],
    context: BUILD_STATUS_CONTEXT,
    description: describe(build),
    targetUrl: `${publicUrl.replace(/\/+$/, '')}/api/builds/${build.id}/logs.txt`,
  };
}

/**
 * After a build's status changed: asks the builds consumer to report it. Best effort, never
 * throws: a lost message leaves the commit status one change behind, and the build as it was.
 */
export async function announceBuildStatus(
  env: Env,
  buildIds: readonly string[],
  logger: Logger,
): Promise<void> {
  if (buildIds.length === 0) return;
  const messages = buildIds.map((buildId) => ({
    body: { type: 'build.status', buildId } satisfies BuildsMessage,
  }));
  try {
    await env.BUILDS_QUEUE.sendBatch(messages);
  } catch (error) {
    logger.warn('build_status_announce_failed', { build_ids: buildIds, error });
  }
}

/** A report that raced a newer change is followed by the newer one, this many times at most. */
const CONVERGE_ROUNDS = 3;

/**
 * Reports the build's *current* status, whatever change the message announced: redelivered or
 * reordered messages converge on the latest state. Read again after each report, so a report
 * that overtook a newer change is corrected here rather than left standing.
 */
export async function reportBuildStatus(
  deps: ReportDeps & { publicUrl: string },
  buildId: string,
): Promise<void> {
  let reported: string | undefined;
  for (let round = 0; round < CONVERGE_ROUNDS; round++) {
    const [build] = await deps.db
      .select({
        id: builds.id,
        projectId: builds.projectId,
        number: builds.number,
        status: builds.status,
        commitSha: builds.commitSha,
        error: builds.error,
        attempt: builds.attempt,
        startedAt: builds.startedAt,
        finishedAt: builds.finishedAt,
      })
      .from(builds)
      .where(eq(builds.id, buildId));
    const status = build && buildCommitStatus(build, deps.publicUrl);
    if (!build || !status) return;
    const seen = `${build.status}:${build.attempt}`;
    if (seen === reported) return;
    if (!(await reportToRepository(deps, build.projectId, status))) return;
    reported = seen;
  }
}
