import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/digest';
import { apiTokens, auditLogs, environments, projects } from '../../db/schema';
import { as, seedTeam } from './api-client';
import { testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

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
    const { developer, workspace } = await seedTeam();
    const response = await as(developer).post<{
      id: string;
      webhook_secret: string;
      root_dir: string;
    }>(`/api/workspaces/${workspace.id}/projects`, project());
    expect(response.status, response.text).toBe(201);
    const created = response.body;
    expect(created.webhook_secret).toMatch(/^whsec_/);
    expect(created.root_dir).toBe('apps/web');

    const [row] = await db.select().from(projects).where(eq(projects.id, created.id));
    expect(row?.webhookSecretEncrypted).toBeTruthy();
    expect(row?.webhookSecretEncrypted).not.toContain(created.webhook_secret);
    const envs = await db.select().from(environments).where(eq(environments.projectId, created.id));
    expect(envs.map((e) => e.kind).sort()).toEqual(['preview', 'production']);

    const fetched = await as(developer).get(`/api/projects/${created.id}`);
    expect(fetched.text).not.toContain(created.webhook_secret);
  });

  it('refuses a viewer any project-level change with 403 and a stranger with 404', async () => {
    const { owner, viewer, outsider: stranger, workspace } = await seedTeam();
    const created = (
      await as(owner).post<{ id: string }>(`/api/workspaces/${workspace.id}/projects`, project())
    ).body;

    const viewerCreate = await as(viewer).post(
      `/api/workspaces/${workspace.id}/projects`,
      project(),
    );
    expect(viewerCreate.status).toBe(403);
    const viewerPatch = await as(viewer).patch(`/api/projects/${created.id}`, {
      name: 'x',
    });
    expect(viewerPatch.status).toBe(403);
    expect((await as(viewer).get(`/api/projects/${created.id}`)).status).toBe(200);

    const strangerGet = await as(stranger).get<{ error: { message: string } }>(
      `/api/projects/${created.id}`,
    );
    const missing = await as(stranger).get<{ error: { message: string } }>(
      `/api/projects/${crypto.randomUUID()}`,
    );
    expect(strangerGet.status).toBe(404);
    expect(missing.status).toBe(404);
    const strangerBody = strangerGet.body;
    const missingBody = missing.body;
    expect(strangerBody.error.message).toBe(missingBody.error.message);
    expect((await as(stranger).patch(`/api/projects/${created.id}`, { name: 'x' })).status).toBe(
      404,
    );
  });

  it('caps a token at its scope: an admin’s read token cannot change a project', async () => {
    const { owner, workspace } = await seedTeam();
    const created = (
      await as(owner).post<{ id: string }>(`/api/workspaces/${workspace.id}/projects`, project())
    ).body;
    const secret = `spk_pat_${crypto.randomUUID()}`;
    await db.insert(apiTokens).values({
      userId: owner.id,
      workspaceId: workspace.id,
      name: 'read-only',
      prefix: secret.slice(0, 12),
      tokenHash: await sha256Hex(secret),
      scopes: ['read'],
    });
    expect((await as(secret).get(`/api/projects/${created.id}`)).status).toBe(200);
    expect((await as(secret).patch(`/api/projects/${created.id}`, { name: 'x' })).status).toBe(403);
  });

  it('validates settings with field details and rejects a taken slug', async () => {
    const { developer, workspace } = await seedTeam();
    const path = `/api/workspaces/${workspace.id}/projects`;
    const bad = await as(developer).post<{ error: { details: Record<string, unknown> } }>(path, {
      ...project(),
      production_branch: 'bad..branch',
      root_dir: '../outside',
    });
    expect(bad.status).toBe(400);
    const { error } = bad.body;
    expect(JSON.stringify(error.details)).toContain('production_branch');
    expect(JSON.stringify(error.details)).toContain('root_dir');

    const first = project();
    expect((await as(developer).post(path, first)).status).toBe(201);
    expect((await as(developer).post(path, first)).status).toBe(409);
    const created = (await as(developer).post<{ id: string }>(path, project())).body;
    expect((await as(developer).patch(`/api/projects/${created.id}`, {})).status).toBe(400);
  });

  it('takes a URL git accepts or an absolute local path as the repository, as given', async () => {
    const { developer, workspace } = await seedTeam();
    const path = `/api/workspaces/${workspace.id}/projects`;
    for (const repoUrl of ['/srv/git/site', 'file:///srv/git/site', 'ssh://git@example.com/a/b']) {
      const created = await as(developer).post<{ repo_url: string }>(path, {
        ...project(),
        repo_url: repoUrl,
      });
      expect(created.status, created.text).toBe(201);
      expect(created.body.repo_url).toBe(repoUrl);
    }
    for (const repoUrl of ['site', './site', '../site', '//host/site', 'not a url', '/a\nb']) {
      const refused = await as(developer).post<{ error: { details: { fields: unknown } } }>(path, {
        ...project(),
        repo_url: repoUrl,
      });
      expect(refused.status, repoUrl).toBe(400);
      expect(JSON.stringify(refused.body.error.details.fields)).toContain(
        'a URL git accepts (https://, ssh://, git://, file://) or an absolute local path',
      );
    }
  });

  it('updates and deletes with exactly one audit row each; deleting needs admin', async () => {
    const { owner, developer, workspace } = await seedTeam();
    const created = (
      await as(developer).post<{ id: string }>(
        `/api/workspaces/${workspace.id}/projects`,
        project(),
      )
    ).body;
    const patched = await as(developer).patch<{ production_branch: string }>(
      `/api/projects/${created.id}`,
      {
        production_branch: 'release/v2',
      },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.production_branch).toBe('release/v2');
    expect((await as(developer).delete(`/api/projects/${created.id}`)).status).toBe(403);
    expect((await as(owner).delete(`/api/projects/${created.id}`)).status).toBe(200);
    expect((await as(owner).get(`/api/projects/${created.id}`)).status).toBe(404);

    const rows = await db.select().from(auditLogs).where(eq(auditLogs.targetId, created.id));
    expect(rows.map((r) => r.action).sort()).toEqual([
      'project.created',
      'project.deleted',
      'project.updated',
    ]);
  });
});
