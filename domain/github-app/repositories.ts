import { and, asc, eq, inArray } from 'drizzle-orm';
import { repoKey } from '../../core/webhooks/events';
import type { Database } from '../../db/client';
import { githubAppRepositories } from '../../db/schema';
import { projectsMentioning } from '../webhooks/deliveries';

export interface ReachableRepository {
  fullName: string;
  cloneUrl: string;
  isPrivate: boolean;
}

/** Repositories the installation now reaches (`installation.created`, `…repositories.added`). */
export async function addReachable(
  db: Database,
  workspaceId: string,
  installationId: number,
  repos: ReachableRepository[],
) {
  if (repos.length === 0) return;
  await db
    .insert(githubAppRepositories)
    .values(repos.map((repo) => ({ workspaceId, installationId, ...repo })))
    .onConflictDoUpdate({
      target: [githubAppRepositories.workspaceId, githubAppRepositories.fullName],
      set: {
        installationId,
        updatedAt: new Date(),
      },
    });
}

/** Repositories the installation no longer reaches (`…repositories.removed`). */
export async function removeReachable(
  db: Database,
  workspaceId: string,
  installationId: number,
  fullNames: string[],
) {
  if (fullNames.length === 0) return;
  await db
    .delete(githubAppRepositories)
    .where(
      and(
        eq(githubAppRepositories.workspaceId, workspaceId),
        eq(githubAppRepositories.installationId, installationId),
        inArray(githubAppRepositories.fullName, fullNames),
      ),
    );
}

/** Everything an uninstalled (or suspended) installation reached. */
export async function removeInstallation(
  db: Database,
  workspaceId: string,
  installationId: number,
) {
  await db
    .delete(githubAppRepositories)
    .where(
      and(
        eq(githubAppRepositories.workspaceId, workspaceId),
        eq(githubAppRepositories.installationId, installationId),
      ),
    );
}

/** The repositories the workspace's app reaches, by name. */
export function reachableRepositories(db: Database, workspaceId: string) {
  return db
    .select()
    .from(githubAppRepositories)
    .where(eq(githubAppRepositories.workspaceId, workspaceId))
    .orderBy(asc(githubAppRepositories.fullName));
}

/** The workspace's GitHub projects building one of `urls` (any form of the repository URL). */
export async function workspaceProjectsOf(db: Database, workspaceId: string, urls: string[]) {
  const keys = [...new Set(urls.map(repoKey))];
  if (keys.length === 0) return [];
  const paths = keys.map((key) => key.slice(key.indexOf('/') + 1) || key);
  const rows = await projectsMentioning(db, 'github', paths);
  return rows.filter(
    (row) => row.workspaceId === workspaceId && row.repoUrl && keys.includes(repoKey(row.repoUrl)),
  );
}

/** One repository the workspace's app reaches, by `owner/name`. */
export async function reachableRepository(db: Database, workspaceId: string, fullName: string) {
  const [row] = await db
    .select()
    .from(githubAppRepositories)
    .where(
      and(
        eq(githubAppRepositories.workspaceId, workspaceId),
        eq(githubAppRepositories.fullName, fullName),
      ),
    );
  return row ?? null;
}
