import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import type { DbHandle } from '../../db/client';
import { memberships, users } from '../../db/schema';
import { as } from './api-client';
import { createWorkspace, newUser } from './auth-helpers';

type Db = DbHandle['db'];
type Provider = 'github' | 'gitlab' | 'gitea' | 'none';

export async function addMember(
  db: Db,
  workspaceId: string,
  email: string,
  role: 'viewer' | 'developer' | 'admin',
) {
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
  await db.insert(memberships).values({ workspaceId, userId: user!.id, role });
}

export interface ProjectFixture {
  owner: Awaited<ReturnType<typeof newUser>>;
  workspace: { id: string };
  project: { id: string; webhook_secret: string; repo_url: string };
}

/** An owner, a workspace and one project on a repository of its own (so deliveries never cross). */
export async function projectFixture(
  options: { provider?: Provider; productionBranch?: string; repoUrl?: string } = {},
): Promise<ProjectFixture> {
  const owner = await newUser('owner');
  const workspace = await createWorkspace(owner.access_token);
  const suffix = crypto.randomUUID().slice(0, 8);
  const provider = options.provider ?? 'github';
  const host = { github: 'github.com', gitlab: 'gitlab.example.com', gitea: 'gitea.example.com' };
  const repoUrl =
    options.repoUrl ??
    (provider === 'none' ? null : `https://${host[provider]}/acme/site-${suffix}`);
  const response = await as(owner).post<ProjectFixture['project']>(
    `/api/workspaces/${workspace.id}/projects`,
    {
      name: 'Site',
      slug: `site-${suffix}`,
      git_provider: provider,
      repo_url: repoUrl,
      production_branch: options.productionBranch ?? 'main',
    },
  );
  expect(response.status, response.text).toBe(201);
  const project = response.body;
  return { owner, workspace, project };
}

/** A webhook notification target of the project (never reachable here) subscribed to `events`. */
export async function subscribeWebhook(
  owner: ProjectFixture['owner'],
  projectId: string,
  events: string[],
) {
  const target = await as(owner).post(`/api/projects/${projectId}/notification-targets`, {
    kind: 'webhook',
    name: 'ops',
    url: 'https://ops.example.com/sparki',
    events,
  });
  expect(target.status, target.text).toBe(201);
}
