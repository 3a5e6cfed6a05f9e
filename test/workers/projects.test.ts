import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/digest';
import { apiTokens, auditLogs, environments, memberships, projects, users } from '../../db/schema';
import { authed, createWorkspace, newUser } from './auth-helpers';
import { fetchWorker, testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

function send(token: string, method: string, path: string, body?: unknown) {
  return fetchWorker(
    path,
    authed(token, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    }),
  );
}

async function addMember(
  workspaceId: string,
  email: string,
  role: 'viewer' | 'developer' | 'admin',
) {
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
  await db.insert(memberships).values({ workspaceId, userId: user!.id, role });
  return user!.id;
}

async function setup() {
  const owner = await newUser('owner');
  const developer = await newUser('dev');
  const viewer = await newUser('viewer');
  const stranger = await newUser('stranger');
  const workspace = await createWorkspace(owner.access_token);
  await addMember(workspace.id, developer.email, 'developer');
  await addMember(workspace.id, viewer.email, 'viewer');
  return { owner, developer, viewer, stranger, workspace };
}

const project = (slug = `app-${crypto.randomUUID().slice(0, 6)}`) => ({
  name: 'Web app',
  slug,
  git_provider: 'github',
  repo_url: 'https://github.com/acme/web',
  production_branch: 'main',
  root_dir: 'apps/web',
});

describe('projects and role checks', () => {
  it('lets a developer create a project with environments and a write-once webhook secret', async () => {
    const { developer, workspace } = await setup();
    const response = await send(
      developer.access_token,
      'POST',
      `/api/workspaces/${workspace.id}/projects`,
      project(),
    );
    expect(response.status, await response.clone().text()).toBe(201);
    const created = await response.json<{ id: string; webhook_secret: string; root_dir: string }>();
    expect(created.webhook_secret).toMatch(/^whsec_/);
    expect(created.root_dir).toBe('apps/web');

    const [row] = await db.select().from(projects).where(eq(projects.id, created.id));
    expect(row?.webhookSecretEncrypted).toBeTruthy();
    expect(row?.webhookSecretEncrypted).not.toContain(created.webhook_secret);
    const envs = await db.select().from(environments).where(eq(environments.projectId, created.id));
    expect(envs.map((e) => e.kind).sort()).toEqual(['preview', 'production']);

    const fetched = await send(developer.access_token, 'GET', `/api/projects/${created.id}`);
    expect(await fetched.text()).not.toContain(created.webhook_secret);
  });

  it('refuses a viewer any project-level change with 403 and a stranger with 404', async () => {
    const { owner, viewer, stranger, workspace } = await setup();
    const created = await (
      await send(owner.access_token, 'POST', `/api/workspaces/${workspace.id}/projects`, project())
    ).json<{ id: string }>();

    const viewerCreate = await send(
      viewer.access_token,
      'POST',
      `/api/workspaces/${workspace.id}/projects`,
      project(),
    );
    expect(viewerCreate.status).toBe(403);
    const viewerPatch = await send(viewer.access_token, 'PATCH', `/api/projects/${created.id}`, {
      name: 'x',
    });
    expect(viewerPatch.status).toBe(403);
    expect((await send(viewer.access_token, 'GET', `/api/projects/${created.id}`)).status).toBe(
      200,
    );

    const strangerGet = await send(stranger.access_token, 'GET', `/api/projects/${created.id}`);
    const missing = await send(
      stranger.access_token,
      'GET',
      `/api/projects/${crypto.randomUUID()}`,
    );
    expect(strangerGet.status).toBe(404);
    expect(missing.status).toBe(404);
    const strangerBody = await strangerGet.json<{ error: { message: string } }>();
    const missingBody = await missing.json<{ error: { message: string } }>();
    expect(strangerBody.error.message).toBe(missingBody.error.message);
    expect(
      (await send(stranger.access_token, 'PATCH', `/api/projects/${created.id}`, { name: 'x' }))
        .status,
    ).toBe(404);
  });

  it('caps a token at its scope: an admin’s read token cannot change a project', async () => {
    const { owner, workspace } = await setup();
    const created = await (
      await send(owner.access_token, 'POST', `/api/workspaces/${workspace.id}/projects`, project())
    ).json<{ id: string }>();
    const [user] = await db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.email, owner.email));
    const secret = `spk_pat_${crypto.randomUUID()}`;
    await db.insert(apiTokens).values({
      userId: user!.id,
      workspaceId: workspace.id,
      name: 'read-only',
      prefix: secret.slice(0, 12),
      tokenHash: await sha256Hex(secret),
      scopes: ['read'],
    });
    expect((await send(secret, 'GET', `/api/projects/${created.id}`)).status).toBe(200);
    expect((await send(secret, 'PATCH', `/api/projects/${created.id}`, { name: 'x' })).status).toBe(
      403,
    );
  });

  it('validates settings with field details and rejects a taken slug', async () => {
    const { developer, workspace } = await setup();
    const path = `/api/workspaces/${workspace.id}/projects`;
    const bad = await send(developer.access_token, 'POST', path, {
      ...project(),
      production_branch: 'bad..branch',
      root_dir: '../outside',
    });
    expect(bad.status).toBe(400);
    const { error } = await bad.json<{ error: { details: Record<string, unknown> } }>();
    expect(JSON.stringify(error.details)).toContain('production_branch');
    expect(JSON.stringify(error.details)).toContain('root_dir');

    const first = project();
    expect((await send(developer.access_token, 'POST', path, first)).status).toBe(201);
    expect((await send(developer.access_token, 'POST', path, first)).status).toBe(409);
    const created = await (await send(developer.access_token, 'POST', path, project())).json<{
      id: string;
    }>();
    expect(
      (await send(developer.access_token, 'PATCH', `/api/projects/${created.id}`, {})).status,
    ).toBe(400);
  });

  it('updates and deletes with exactly one audit row each; deleting needs admin', async () => {
    const { owner, developer, workspace } = await setup();
    const created = await (
      await send(
        developer.access_token,
        'POST',
        `/api/workspaces/${workspace.id}/projects`,
        project(),
      )
    ).json<{ id: string }>();
    const patched = await send(developer.access_token, 'PATCH', `/api/projects/${created.id}`, {
      production_branch: 'release/v2',
    });
    expect(patched.status).toBe(200);
    expect((await patched.json<{ production_branch: string }>()).production_branch).toBe(
      'release/v2',
    );
    expect(
      (await send(developer.access_token, 'DELETE', `/api/projects/${created.id}`)).status,
    ).toBe(403);
    expect((await send(owner.access_token, 'DELETE', `/api/projects/${created.id}`)).status).toBe(
      200,
    );
    expect((await send(owner.access_token, 'GET', `/api/projects/${created.id}`)).status).toBe(404);

    const rows = await db.select().from(auditLogs).where(eq(auditLogs.targetId, created.id));
    expect(rows.map((r) => r.action).sort()).toEqual([
      'project.created',
      'project.deleted',
      'project.updated',
    ]);
  });
});
