import { and, eq, sql } from 'drizzle-orm';
import { deploymentHost, hostLabel, siteUrl } from '../../core/hosting/host-routing';
import type { Database } from '../../db/client';
import { projects } from '../../db/schema';

/** The project's name under the hosting domain, given on first deploy when it has none yet. */
export async function ensureHostLabel(db: Database, projectId: string): Promise<string> {
  const [project] = await db.select().from(projects).where(eq(projects.id, projectId));
  if (!project) throw new Error('The project no longer exists');
  if (project.hostLabel) return project.hostLabel;
  for (let attempt = 0; attempt < 5; attempt++) {
    const label =
      attempt === 0
        ? hostLabel(project.slug)
        : `${hostLabel(project.slug)}-${crypto.randomUUID().slice(0, 4)}`;
    const [set] = await db
      .update(projects)
      .set({ hostLabel: label })
      .where(and(eq(projects.id, projectId), sql`${projects.hostLabel} is null`))
      .returning({ hostLabel: projects.hostLabel })
      .catch(() => []);
    if (set?.hostLabel) return set.hostLabel;
    const [again] = await db
      .select({ hostLabel: projects.hostLabel })
      .from(projects)
      .where(eq(projects.id, projectId));
    if (again?.hostLabel) return again.hostLabel;
  }
  throw new Error('Could not give the project a host name');
}

/** What a site's address is made of: the platform's own URL and the domain sites live under. */
export interface SiteAddressing {
  PUBLIC_URL: string;
  HOSTING_DOMAIN: string;
}

/** Where the project's production visitors reach it on the edge host. */
export function productionUrl(addressing: SiteAddressing, projectLabel: string): string {
  return siteUrl(addressing.PUBLIC_URL, `${projectLabel}.${addressing.HOSTING_DOMAIN}`);
}

/** One deployment's own address on the edge host. */
export function deploymentUrl(
  addressing: SiteAddressing,
  deploymentLabel: string,
  projectLabel: string,
): string {
  return siteUrl(
    addressing.PUBLIC_URL,
    deploymentHost(deploymentLabel, projectLabel, addressing.HOSTING_DOMAIN),
  );
}
