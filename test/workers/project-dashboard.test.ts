// The APIs the dashboard's project screens added: the builds list's trigger filter, replacing a
// project's webhook secret, and the new-project form's detection preview.
import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLogs } from '../../db/schema';
import { anonymous, as, type ErrorEnvelope, seedTeam } from './api-client';
import { testDb } from './harness';
import { deliveryHeaders, signatureHeaders } from './webhook-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

const slug = () => `app-${crypto.randomUUID().slice(0, 8)}`;

async function newProject(caller: string, workspaceId: string, repoUrl = '/srv/git/app') {
  const created = await as(caller).post<{ id: string; webhook_secret: string }>(
    `/api/workspaces/${workspaceId}/projects`,
    { name: 'App', slug: slug(), git_provider: 'github', repo_url: repoUrl },
  );
  expect(created.status, created.text).toBe(201);
  return created.body;
}

describe('builds list: trigger filter', () => {
  it('narrows the list to builds of one trigger, and refuses an unknown one', async () => {
    const { developer, workspace } = await seedTeam();
    const project = await newProject(developer.access_token, workspace.id);
    const started = await as(developer).post<{ id: string; trigger: string }>(
      `/api/projects/${project.id}/builds`,
      { branch: 'feature' },
    );
    expect(started.status, started.text).toBe(201);
    expect(started.body.trigger).toBe('manual');

    type Page = { builds: { id: string }[] };
    const manual = await as(developer).get<Page>(
      `/api/projects/${project.id}/builds?trigger=manual`,
    );
    expect(manual.body.builds.map((b) => b.id)).toEqual([started.body.id]);
    const pushes = await as(developer).get<Page>(`/api/projects/${project.id}/builds?trigger=push`);
    expect(pushes.status).toBe(200);
    expect(pushes.body.builds).toEqual([]);
    const both = await as(developer).get<Page>(
      `/api/projects/${project.id}/builds?trigger=manual&branch=main`,
    );
    expect(both.body.builds).toEqual([]);

    // The projects list tells each project's newest build.
    const other = await newProject(developer.access_token, workspace.id);
    const listed = await as(developer).get<{
      projects: {
        id: string;
        latest_build: { id: string; status: string; branch: string } | null;
      }[];
    }>(`/api/workspaces/${workspace.id}/projects`);
    const byId = new Map(listed.body.projects.map((p) => [p.id, p.latest_build]));
    expect(byId.get(project.id)).toMatchObject({
      id: started.body.id,
      status: 'queued',
      branch: 'feature',
    });
    expect(byId.get(other.id)).toBeNull();
    // The newest by number, in the list and in the project's own read.
    const newer = await as(developer).post<{ id: string; number: number }>(
      `/api/projects/${project.id}/builds`,
      { branch: 'main' },
    );
    const relisted = await as(developer).get<typeof listed.body>(
      `/api/workspaces/${workspace.id}/projects`,
    );
    const shown = await as(developer).get<(typeof listed.body.projects)[number]>(
      `/api/projects/${project.id}`,
    );
    for (const latest of [
      relisted.body.projects.find((p) => p.id === project.id)?.latest_build,
      shown.body.latest_build,
    ]) {
      expect(latest).toMatchObject({ id: newer.body.id, status: 'queued', branch: 'main' });
    }

    const bogus = await as(developer).get<ErrorEnvelope>(
      `/api/projects/${project.id}/builds?trigger=cron`,
    );
    expect(bogus.status).toBe(400);
    expect(bogus.body.error.code).toBe('validation_failed');
  });
});

describe('webhook secret rotation', () => {
  async function ping(projectId: string, secret: string) {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    return anonymous.post(`/webhooks/github/${projectId}`, body, {
      'content-type': 'application/json',
      ...deliveryHeaders('github', 'ping', crypto.randomUUID()),
      ...(await signatureHeaders('github', secret, body)),
    });
  }

  it('gives an admin a new secret once, audited; the old one stops verifying', async () => {
    const { owner, admin, workspace } = await seedTeam();
    const project = await newProject(owner.access_token, workspace.id, 'https://github.com/acme/x');
    expect((await ping(project.id, project.webhook_secret)).status).toBe(200);

    const rotated = await as(admin).post<{ webhook_secret: string }>(
      `/api/projects/${project.id}/webhook-secret`,
    );
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.webhook_secret).toMatch(/^whsec_/);
    expect(rotated.body.webhook_secret).not.toBe(project.webhook_secret);

    expect((await ping(project.id, project.webhook_secret)).status).toBe(401);
    expect((await ping(project.id, rotated.body.webhook_secret)).status).toBe(200);

    const audit = await db
      .select()
      .from(auditLogs)
      .where(
        and(
          eq(auditLogs.targetId, project.id),
          eq(auditLogs.action, 'project.webhook_secret_rotated'),
        ),
      );
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actorId).toBe(admin.id);
    expect(JSON.stringify(audit[0])).not.toContain(rotated.body.webhook_secret);
    // The project as read never carries it.
    const read = await as(admin).get(`/api/projects/${project.id}`);
    expect(read.text).not.toContain(rotated.body.webhook_secret);
  });

  it('refuses a developer and a viewer (403), a stranger (404) and no session (401)', async () => {
    const { owner, developer, viewer, outsider, workspace } = await seedTeam();
    const project = await newProject(owner.access_token, workspace.id);
    const path = `/api/projects/${project.id}/webhook-secret`;
    expect((await as(developer).post(path)).status).toBe(403);
    expect((await as(viewer).post(path)).status).toBe(403);
    expect((await as(outsider).post(path)).status).toBe(404);
    expect(
      (await as(owner).post(`/api/projects/${crypto.randomUUID()}/webhook-secret`)).status,
    ).toBe(404);
    expect((await anonymous.post(path)).status).toBe(401);
    expect((await ping(project.id, project.webhook_secret)).status).not.toBe(401);
  });
});

describe('detection preview', () => {
  async function publish(repo: string, ref: string, files: Record<string, string>) {
    const registered = await fetch(`${env.GITHUB_OAUTH_BASE_URL}/_test/repos`, {
      method: 'POST',
      body: JSON.stringify({ repo, ref, files }),
    });
    expect(registered.status).toBe(201);
  }
  type Preview = {
    status: string;
    reason?: string;
    detection?: { framework: string | null; build_command: string | null; root_dir: string };
  };

  it('detects a public GitHub repository through the contents API, at the branch and root', async () => {
    const { developer, workspace } = await seedTeam();
    const repo = `acme/${slug()}`;
    await publish(repo, 'main', {
      'README.md': '# shop',
      'apps/web/package.json': JSON.stringify({
        scripts: { build: 'next build', dev: 'next dev' },
        dependencies: { next: '15.0.0', react: '19.0.0' },
      }),
      'apps/web/package-lock.json': '{}',
    });
    const path = `/api/workspaces/${workspace.id}/projects/detect-preview`;
    const found = await as(developer).post<Preview>(path, {
      repo_url: `https://github.com/${repo}.git`,
      production_branch: 'main',
      root_dir: 'apps/web',
    });
    expect(found.status, found.text).toBe(200);
    expect(found.body.status).toBe('detected');
    expect(found.body.detection?.framework).toBe('nextjs');
    expect(found.body.detection?.root_dir).toBe('apps/web');
    expect(found.body.detection?.build_command).toContain('build');

    const missingRoot = await as(developer).post<Preview>(path, {
      repo_url: `https://github.com/${repo}`,
      root_dir: 'apps/api',
    });
    expect(missingRoot.body.status).toBe('failed');
    expect(missingRoot.body.reason).toContain('apps/api');

    const otherBranch = await as(developer).post<Preview>(path, {
      repo_url: `https://github.com/${repo}`,
      production_branch: 'develop',
    });
    expect(otherBranch.body.status).toBe('deferred');
    expect(otherBranch.body.reason).toContain('first build');
  });

  it('defers what the platform cannot read: a local path, another host', async () => {
    const { developer, workspace } = await seedTeam();
    const path = `/api/workspaces/${workspace.id}/projects/detect-preview`;
    for (const repo_url of ['/srv/git/app', 'file:///srv/git/app', 'https://gitlab.com/a/b.git']) {
      const answer = await as(developer).post<Preview>(path, { repo_url });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toEqual({
        status: 'deferred',
        reason: expect.stringContaining('runner'),
      });
    }
  });

  it('refuses a bad URL (400), a viewer (403), a stranger (404) and no session (401)', async () => {
    const { developer, viewer, outsider, workspace } = await seedTeam();
    const path = `/api/workspaces/${workspace.id}/projects/detect-preview`;
    const bad = await as(developer).post<ErrorEnvelope>(path, { repo_url: 'relative/path' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    const badRoot = await as(developer).post(path, { repo_url: '/srv/a', root_dir: '../up' });
    expect(badRoot.status).toBe(400);
    expect((await as(viewer).post(path, { repo_url: '/srv/a' })).status).toBe(403);
    expect((await as(outsider).post(path, { repo_url: '/srv/a' })).status).toBe(404);
    expect((await anonymous.post(path, { repo_url: '/srv/a' })).status).toBe(401);
  });
});
