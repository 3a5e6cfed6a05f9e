import { and, count, eq, gt, gte, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { builds, deployments, invites, memberships, projects, runners } from '../../db/schema';

export interface WorkspaceUsage {
  /** The first instant of the calendar month (UTC) the month's figures count from. */
  periodStart: Date;
  buildsThisMonth: number;
  /** Runner time of the month's builds, in milliseconds (a running one counts up to now). */
  buildMsThisMonth: number;
  deploymentsThisMonth: number;
  projects: number;
  members: number;
  pendingInvites: number;
  runners: number;
  runningBuilds: number;
}

export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** What a workspace uses now and in the current calendar month (UTC). */
export async function workspaceUsage(
  db: Database,
  workspaceId: string,
  now = new Date(),
): Promise<WorkspaceUsage> {
  const periodStart = monthStart(now);
  const inWorkspace = eq(projects.workspaceId, workspaceId);
  const [buildFigures, deploymentFigures, projectCount, memberCount, inviteCount, runnerCount] =
    await Promise.all([
      db
        .select({
          started: count(),
          ms: sql<string>`coalesce(sum(extract(epoch from (coalesce(${builds.finishedAt}, ${now.toISOString()}::timestamptz) - ${builds.startedAt})) * 1000), 0)`,
          running: sql<number>`count(*) filter (where ${builds.status} = 'running')`.mapWith(
            Number,
          ),
        })
        .from(builds)
        .innerJoin(projects, eq(projects.id, builds.projectId))
        .where(and(inWorkspace, gte(builds.createdAt, periodStart))),
      db
        .select({ n: count() })
        .from(deployments)
        .innerJoin(projects, eq(projects.id, deployments.projectId))
        .where(and(inWorkspace, gte(deployments.createdAt, periodStart))),
      db.select({ n: count() }).from(projects).where(inWorkspace),
      db.select({ n: count() }).from(memberships).where(eq(memberships.workspaceId, workspaceId)),
      db
        .select({ n: count() })
        .from(invites)
        .where(
          and(
            eq(invites.workspaceId, workspaceId),
            isNull(invites.acceptedAt),
            gt(invites.expiresAt, now),
          ),
        ),
      db.select({ n: count() }).from(runners).where(eq(runners.workspaceId, workspaceId)),
    ]);
  const figures = buildFigures[0]!;
  return {
    periodStart,
    buildsThisMonth: figures.started,
    buildMsThisMonth: Math.round(Number(figures.ms)),
    deploymentsThisMonth: deploymentFigures[0]!.n,
    projects: projectCount[0]!.n,
    members: memberCount[0]!.n,
    pendingInvites: inviteCount[0]!.n,
    runners: runnerCount[0]!.n,
    runningBuilds: figures.running,
  };
}

/** How many builds each of a workspace's runners is running now, by runner id. */
export async function runningBuildsByRunner(
  db: Database,
  workspaceId: string,
): Promise<Map<string, number>> {
  const rows = await db
    .select({ runnerId: builds.runnerId, n: count() })
    .from(builds)
    .innerJoin(runners, eq(runners.id, builds.runnerId))
    .where(and(eq(runners.workspaceId, workspaceId), eq(builds.status, 'running')))
    .groupBy(builds.runnerId);
  return new Map(rows.flatMap((row) => (row.runnerId ? [[row.runnerId, row.n]] : [])));
}
