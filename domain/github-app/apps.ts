import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { type GitHubAppRow, githubApps, workspaces } from '../../db/schema';
import type { Audit } from '../audit';

export type NewGitHubApp = Omit<GitHubAppRow, 'createdAt'>;

/** The workspace's GitHub App, if one was created from the manifest. */
export async function githubAppOf(db: Database, workspaceId: string) {
  const [row] = await db.select().from(githubApps).where(eq(githubApps.workspaceId, workspaceId));
  return row ?? null;
}

/** Stores (or replaces) the workspace's app with its credentials already sealed. Audited. */
export function saveGitHubApp(db: Database, app: NewGitHubApp, audit: Audit) {
  return db.transaction(async (tx) => {
    const { workspaceId, ...rest } = app;
    await tx
      .insert(githubApps)
      .values(app)
      .onConflictDoUpdate({
        target: githubApps.workspaceId,
        set: { ...rest, createdAt: new Date() },
      });
    await audit(tx, {
      action: 'workspace.github_app_connected',
      workspaceId,
      targetType: 'workspace',
      targetId: workspaceId,
      metadata: { app_id: app.appId, slug: app.slug },
    });
  });
}

/** The workspace's name, which the app's name on GitHub is made from. */
export async function workspaceName(db: Database, workspaceId: string) {
  const [row] = await db
    .select({ name: workspaces.name })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId));
  return row?.name ?? null;
}

/** The workspace whose app GitHub names in `X-GitHub-Hook-Installation-Target-ID`. */
export async function githubAppById(db: Database, appId: number) {
  const [row] = await db.select().from(githubApps).where(eq(githubApps.appId, appId));
  return row ?? null;
}
