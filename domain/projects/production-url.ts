import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { deployments, environments, projects } from '../../db/schema';
import { EDGE } from '../deployments/adapters/types';
import { productionUrl, type SiteAddressing } from '../hosting/host-label';

/**
 * Where each project's production visitors reach it, by project id; a project with nothing live
 * in production is absent. The edge host serves production at the project's own host (whichever
 * deployment is live, a canary included); another platform at the live deployment's URL.
 */
export async function productionUrls(
  db: Database,
  addressing: SiteAddressing,
  projectIds: string[],
): Promise<Map<string, string>> {
  if (projectIds.length === 0) return new Map();
  const rows = await db
    .select({
      projectId: environments.projectId,
      hostLabel: projects.hostLabel,
      platform: deployments.platform,
      url: deployments.url,
    })
    .from(environments)
    .innerJoin(deployments, eq(deployments.id, environments.liveDeploymentId))
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .where(and(inArray(environments.projectId, projectIds), eq(environments.kind, 'production')));
  const urls = new Map<string, string>();
  for (const row of rows) {
    const url =
      row.platform === EDGE && row.hostLabel ? productionUrl(addressing, row.hostLabel) : row.url;
    if (url) urls.set(row.projectId, url);
  }
  return urls;
}
