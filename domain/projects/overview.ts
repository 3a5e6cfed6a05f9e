import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { type Build, builds, deployments, environments, projects } from '../../db/schema';
import { EDGE } from '../deployments/adapters/types';
import { productionUrl, type SiteAddressing } from '../hosting/host-label';

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

/** Each project's overview by id, in one query (a read of a project runs a few, each counted). */
export async function projectOverviews(
  db: Database,
  addressing: SiteAddressing,
  projectIds: string[],
): Promise<Map<string, ProjectOverview>> {
  const overviews = new Map<string, ProjectOverview>();
  if (projectIds.length === 0) return overviews;
  const latest = db
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
  const rows = await db
    .select({
      projectId: projects.id,
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
    })
    .from(projects)
    .leftJoin(
      environments,
      and(eq(environments.projectId, projects.id), eq(environments.kind, 'production')),
    )
    .leftJoin(deployments, eq(deployments.id, environments.liveDeploymentId))
    .leftJoinLateral(latest, sql`true`)
    .where(inArray(projects.id, projectIds));
  for (const row of rows) {
    const live =
      row.platform === EDGE && row.hostLabel ? productionUrl(addressing, row.hostLabel) : row.url;
    const known = overviews.get(row.projectId);
    overviews.set(row.projectId, {
      productionUrl: live ?? known?.productionUrl ?? null,
      latestBuild: row.latest,
    });
  }
  return overviews;
}
