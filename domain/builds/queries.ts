import { and, asc, desc, eq, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { type Build, buildSteps, builds } from '../../db/schema';
import type { Audit } from '../audit';
import { type BuildRequest, type CreatedBuild, createBuild } from './create';
import { WAITING_STATUSES } from './statuses';

export interface BuildFilter {
  status?: Build['status'] | undefined;
  branch?: string | undefined;
  trigger?: Build['trigger'] | undefined;
  /** Only builds numbered below this one (the previous page's last). */
  before?: number | undefined;
}

/** A page of a project's builds, newest first, and whether another page follows. */
export async function buildsOf(
  db: Database,
  projectId: string,
  filter: BuildFilter,
  limit: number,
) {
  const conditions: SQL[] = [eq(builds.projectId, projectId)];
  if (filter.status) conditions.push(eq(builds.status, filter.status));
  if (filter.branch) conditions.push(eq(builds.branch, filter.branch));
  if (filter.trigger) conditions.push(eq(builds.trigger, filter.trigger));
  if (filter.before) conditions.push(lt(builds.number, filter.before));
  const rows = await db
    .select()
    .from(builds)
    .where(and(...conditions))
    .orderBy(desc(builds.number))
    .limit(limit + 1);
  return { page: rows.slice(0, limit), more: rows.length > limit };
}

export async function findBuild(db: Database, id: string): Promise<Build | undefined> {
  const [row] = await db.select().from(builds).where(eq(builds.id, id));
  return row;
}

export function stepsOf(db: Database, buildId: string) {
  return db
    .select()
    .from(buildSteps)
    .where(eq(buildSteps.buildId, buildId))
    .orderBy(asc(buildSteps.position));
}

/** Where a build's output lies, if it has any. */
export async function buildOutput(db: Database, id: string) {
  const [row] = await db
    .select({ artifactKey: builds.artifactKey, outputManifestKey: builds.outputManifestKey })
    .from(builds)
    .where(eq(builds.id, id));
  return row;
}

/**
 * Cancels a build: `now` one still waiting for a runner, `on_runner` one running (its runner is
 * to stop it). The build as it is now, or undefined when it was not in that state.
 */
export function cancelBuild(db: Database, id: string, how: 'now' | 'on_runner', audit: Audit) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(builds)
      .set(
        how === 'now'
          ? { status: 'canceled', error: 'canceled on request', finishedAt: new Date() }
          : { cancelRequestedAt: sql`coalesce(${builds.cancelRequestedAt}, now())` },
      )
      .where(
        and(
          eq(builds.id, id),
          how === 'now'
            ? inArray(builds.status, [...WAITING_STATUSES])
            : eq(builds.status, 'running'),
        ),
      )
      .returning();
    if (row) {
      await audit(tx, {
        action: how === 'now' ? 'build.canceled' : 'build.cancel_requested',
        targetType: 'build',
        targetId: row.id,
        metadata: { number: row.number },
      });
    }
    return row;
  });
}

/** A new build and its audit row (`action`), in one transaction; announce it after commit. */
export function startBuild(
  db: Database,
  request: BuildRequest,
  audit: Audit,
  action: string,
  metadata: (created: CreatedBuild) => Record<string, unknown>,
) {
  return db.transaction(async (tx) => {
    const created = await createBuild(tx, request);
    await audit(tx, {
      action,
      targetType: 'build',
      targetId: created.build.id,
      metadata: metadata(created),
    });
    return created;
  });
}
