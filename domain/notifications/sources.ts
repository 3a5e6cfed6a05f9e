import { eq } from 'drizzle-orm';
import {
  dashboardUrl,
  type EventDeployment,
  type NotificationEvent,
} from '../../core/notifications/events';
import type { Database } from '../../db/client';
import { builds, type Deployment, deployments, projects, runners } from '../../db/schema';
import type { Logger } from '../../platform/logger';
import type { TaskContext } from '../../platform/services';
import { type ProjectEvent, recordEvents } from './record';

// Where each event comes from. Each is recorded where Sparki already reports the change to the
// repository (commit statuses), after the change is committed: build failures from the builds
// queue's `build.status` message, deployment outcomes after the deploy engine's turn and after a
// manual rollback, a runner going offline from its RunnerHub. Event ids name the change, so a
// report made twice notifies once.

/**
 * The callers' own work (a rollback, a deployment's turn, a build's status) is done and committed
 * by now: a notification that cannot be recorded is logged, never their failure.
 */
async function quietly(logger: Logger, what: string, work: () => Promise<void>) {
  try {
    await work();
  } catch (error) {
    logger.error('notification_record_failed', { what, error });
  }
}

type ProjectRow = Pick<typeof projects.$inferSelect, 'id' | 'name' | 'slug'>;

function projectOf(publicUrl: string, project: ProjectRow): NotificationEvent['project'] {
  return {
    id: project.id,
    name: project.name,
    slug: project.slug,
    url: dashboardUrl(publicUrl, `/projects/${project.id}`),
  };
}

async function loadProject(db: Database, projectId: string) {
  const [row] = await db
    .select({ id: projects.id, name: projects.name, slug: projects.slug })
    .from(projects)
    .where(eq(projects.id, projectId));
  return row;
}

export function eventProject(db: Database, publicUrl: string, projectId: string) {
  return loadProject(db, projectId).then((row) => row && projectOf(publicUrl, row));
}

/**
 * `build.failed` once per failed (or timed-out) attempt of a build; nothing for other states. It
 * throws on a database error: the builds queue then retries the `build.status` message, which
 * is idempotent.
 */
export async function notifyBuildFailure({ env, services }: TaskContext, buildId: string) {
  const db = services.db();
  const publicUrl = services.config.PUBLIC_URL;
  const [build] = await db.select().from(builds).where(eq(builds.id, buildId));
  if (!build || (build.status !== 'failed' && build.status !== 'timed_out')) return;
  const project = await loadProject(db, build.projectId);
  if (!project) return;
  const event: NotificationEvent = {
    id: `build.failed:${build.id}:${build.attempt}`,
    type: 'build.failed',
    created_at: (build.finishedAt ?? new Date()).toISOString(),
    project: projectOf(publicUrl, project),
    build: {
      id: build.id,
      number: build.number,
      status: build.status,
      branch: build.branch,
      commit_sha: build.commitSha,
      error: build.error,
      url: dashboardUrl(publicUrl, `/builds/${build.id}`),
    },
  };
  await recordEvents(env, db, [{ projectId: project.id, event }]);
}

function eventDeployment(publicUrl: string, row: Deployment): EventDeployment {
  return {
    id: row.id,
    stage: row.stage,
    status: row.status,
    url: row.url,
    error: row.error,
    build_id: row.buildId,
    dashboard_url: dashboardUrl(publicUrl, `/deployments/${row.id}`),
  };
}

async function loadDeployment(db: Database, id: string | null) {
  if (!id) return undefined;
  const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
  return row;
}

/**
 * After the deploy engine's turn on a deployment: `deployment.live` when it went live,
 * `deployment.rolled_back` (automatic) when it failed and production was put back.
 */
export async function notifyDeploymentOutcome(context: TaskContext, deploymentId: string) {
  await quietly(context.logger, 'deployment outcome', async () => {
    const db = context.services.db();
    const publicUrl = context.services.config.PUBLIC_URL;
    const deployment = await loadDeployment(db, deploymentId);
    if (!deployment || (deployment.status !== 'live' && deployment.status !== 'rolled_back'))
      return;
    const project = await loadProject(db, deployment.projectId);
    if (!project) return;
    const base = {
      id: `${deployment.status === 'live' ? 'deployment.live' : 'deployment.rolled_back'}:${deployment.id}`,
      created_at: (deployment.finishedAt ?? new Date()).toISOString(),
      project: projectOf(publicUrl, project),
      deployment: eventDeployment(publicUrl, deployment),
    };
    let event: NotificationEvent;
    if (deployment.status === 'live') event = { ...base, type: 'deployment.live' };
    else {
      const restored = await loadDeployment(db, deployment.rolledBackToId);
      event = {
        ...base,
        type: 'deployment.rolled_back',
        automatic: true,
        restored: restored ? eventDeployment(publicUrl, restored) : null,
      };
    }
    await recordEvents(context.env, db, [{ projectId: project.id, event }]);
  });
}

/** After a rollback someone asked for: `restored` serves again, `rolledBackFromId` served until now. */
export async function notifyManualRollback(context: TaskContext, restored: Deployment) {
  await quietly(context.logger, 'manual rollback', async () => {
    const db = context.services.db();
    const publicUrl = context.services.config.PUBLIC_URL;
    const project = await loadProject(db, restored.projectId);
    if (!project) return;
    const from = await loadDeployment(db, restored.rolledBackFromId);
    const event: NotificationEvent = {
      // Each rollback request is its own event (the API's Idempotency-Key covers a repeated request).
      id: `deployment.rolled_back:${from?.id ?? 'none'}:${restored.id}:${crypto.randomUUID()}`,
      type: 'deployment.rolled_back',
      created_at: new Date().toISOString(),
      project: projectOf(publicUrl, project),
      automatic: false,
      ...(from && { deployment: eventDeployment(publicUrl, from) }),
      restored: eventDeployment(publicUrl, restored),
    };
    await recordEvents(context.env, db, [{ projectId: project.id, event }]);
  });
}

/**
 * `runner.offline` to every project of the runner's workspace: a runner belongs to the
 * workspace's pool, and any of its projects' builds may be waiting for it (labels narrow which,
 * but a project's pipeline may change them at any push).
 */
export async function notifyRunnerOffline(context: TaskContext, runnerId: string, offlineAt: Date) {
  await quietly(context.logger, 'runner.offline', async () => {
    const db = context.services.db();
    const publicUrl = context.services.config.PUBLIC_URL;
    const [runner] = await db.select().from(runners).where(eq(runners.id, runnerId));
    if (!runner) return;
    const members = await db
      .select({ id: projects.id, name: projects.name, slug: projects.slug })
      .from(projects)
      .where(eq(projects.workspaceId, runner.workspaceId));
    const events: ProjectEvent[] = members.map((project) => ({
      projectId: project.id,
      event: {
        id: `runner.offline:${runner.id}:${offlineAt.getTime()}`,
        type: 'runner.offline',
        created_at: offlineAt.toISOString(),
        project: projectOf(publicUrl, project),
        runner: {
          id: runner.id,
          name: runner.name,
          labels: runner.labels,
          last_seen_at: runner.lastSeenAt?.toISOString() ?? null,
        },
      },
    }));
    await recordEvents(context.env, db, events);
  });
}
