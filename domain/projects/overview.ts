import { and, desc, eq, sql } from 'drizzle-orm';
import type { PgSelect } from 'drizzle-orm/pg-core';
import type { Role } from '../../core/roles';
import type { Database } from '../../db/client';
import { preparedSelect } from '../../db/prepared-select';
import {
  type Build,
  builds,
  deployments,
  environments,
  memberships,
  type Project,
  projects,
} from '../../db/schema';
import { EDGE } from '../deployments/adapters/types';
import { productionUrl, type SiteAddressing } from '../hosting/host-label';
import { callerMembership } from './projects';

/** What a project's newest build shows where the project is listed. */
export type LatestBuild = Pick<
  Build,
  'id' | 'number' | 'status' | 'branch' | 'createdAt' | 'finishedAt'
>;

export interface ProjectOverview {
  /**
   * Where production visitors reach the project, null with nothing live in production. The edge
   * host serves production at the project's own host (whichever deployment is live, a canary
   * included); another platform at the live deployment's URL.
   */
  productionUrl: string | null;
  /** The newest build, by number. */
  latestBuild: LatestBuild | null;
}

/** The newest build of the project in the outer query, by number. */
function latestBuildOf(db: Database) {
  return db
    .select({
      id: builds.id,
      number: builds.number,
      status: builds.status,
      branch: builds.branch,
      createdAt: builds.createdAt,
      finishedAt: builds.finishedAt,
    })
    .from(builds)
    .where(eq(builds.projectId, projects.id))
    .orderBy(desc(builds.number))
    .limit(1)
    .as('latest_build');
}

type LatestBuildQuery = ReturnType<typeof latestBuildOf>;

/** The columns an overview is made of, beside whatever else a query selects from `projects`. */
const overviewColumns = (latest: LatestBuildQuery) => ({
  hostLabel: projects.hostLabel,
  platform: deployments.platform,
  url: deployments.url,
  latest: {
    id: latest.id,
    number: latest.number,
    status: latest.status,
    branch: latest.branch,
    createdAt: latest.createdAt,
    finishedAt: latest.finishedAt,
  },
});

/** Joins a select from `projects` to its live production deployment and its newest build. */
function joinOverview<T extends PgSelect>(query: T, latest: LatestBuildQuery) {
  return query
    .leftJoin(
      environments,
      and(eq(environments.projectId, projects.id), eq(environments.kind, 'production')),
    )
    .leftJoin(deployments, eq(deployments.id, environments.liveDeploymentId))
    .leftJoinLateral(latest, sql`true`);
}

type OverviewRow = {
  hostLabel: string | null;
  platform: string | null;
  url: string | null;
  latest: LatestBuild | null;
};

/** A project's rows (one per production environment) as its overview. */
function toOverview(addressing: SiteAddressing, rows: OverviewRow[]): ProjectOverview {
  let url: string | null = null;
  for (const row of rows) {
    url ??=
      row.platform === EDGE && row.hostLabel ? productionUrl(addressing, row.hostLabel) : row.url;
  }
  return { productionUrl: url, latestBuild: rows[0]?.latest ?? null };
}

/** Every list of projects runs it, so its SQL is built once (`ids`: the projects' ids). */
const overviewRows = preparedSelect((db) => {
  const latest = latestBuildOf(db);
  const query = db
    .select({ projectId: projects.id, ...overviewColumns(latest) })
    .from(projects)
    .$dynamic();
  return joinOverview(query, latest).where(sql`${projects.id} = any(${sql.placeholder('ids')})`);
});

/** Each project's overview by id, in one query (a list of projects, a project just changed). */
export async function projectOverviews(
  db: Database,
  addressing: SiteAddressing,
  projectIds: string[],
): Promise<Map<string, ProjectOverview>> {
  const overviews = new Map<string, ProjectOverview>();
  if (projectIds.length === 0) return overviews;
  const rows = await overviewRows(db, { ids: projectIds });
  const byProject = new Map<string, typeof rows>();
  for (const row of rows) {
    const own = byProject.get(row.projectId);
    if (own) own.push(row);
    else byProject.set(row.projectId, [row]);
  }
  for (const [id, own] of byProject) overviews.set(id, toOverview(addressing, own));
  return overviews;
}

/** A read of one project runs it, so its SQL is built once (`id`, `userId`: the caller's). */
const memberOverviewRows = preparedSelect((db) => {
  const latest = latestBuildOf(db);
  const query = db
    .select({ project: projects, role: memberships.role, ...overviewColumns(latest) })
    .from(projects)
    .leftJoin(memberships, callerMembership)
    .$dynamic();
  return joinOverview(query, latest).where(eq(projects.id, sql.placeholder('id')));
});

/**
 * `projectForMember` and the project's overview in one query: what a read of one project needs,
 * its authorization included.
 */
export async function projectOverviewForMember(
  db: Database,
  addressing: SiteAddressing,
  id: string,
  userId: string,
): Promise<{ project: Project; role: Role | null; overview: ProjectOverview } | undefined> {
  const rows = await memberOverviewRows(db, { id, userId });
  const [first] = rows;
  return (
    first && { project: first.project, role: first.role, overview: toOverview(addressing, rows) }
  );
}
