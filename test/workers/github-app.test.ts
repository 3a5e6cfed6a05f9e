import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rsaPrivateKeyToPkcs8 } from '../../core/pem';
import { decryptSecret } from '../../core/secret-box';
import { auditLogs, builds, githubAppRepositories, githubApps, projects } from '../../db/schema';
import { reportToRepository } from '../../domain/reporting/report';
import { createLogger } from '../../platform/logger';
import { anonymous, as, type Caller, seedTeam, type Team } from './api-client';
import { fetchWorker, testDb } from './harness';
import { atRepo, deliveryHeaders, githubExample, signatureHeaders } from './webhook-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface ManifestStart {
  manifest: {
    name: string;
    url: string;
    hook_attributes: { url: string; active: boolean };
    redirect_url: string;
    callback_urls: string[];
    setup_url: string;
    public: boolean;
    default_permissions: Record<string, string>;
    default_events: string[];
  };
  state: string;
  post_url: string;
  expires_at: string;
}

interface CreatedApp {
  id: number;
  slug: string;
  clientId: string;
  clientSecret: string;
  webhookSecret: string;
  pem: string;
}

const base = env.PUBLIC_URL.replace(/\/$/, '');

async function startManifest(caller: Caller, workspaceId: string) {
  const started = await as(caller).post<ManifestStart>(
    `/api/workspaces/${workspaceId}/github-app/manifest`,
  );
  expect(started.status, started.text).toBe(200);
  return started.body;
}

/** What the admin's browser does: POSTs the manifest form to GitHub, follows it back. */
async function submitToGitHub(started: ManifestStart) {
  const created = await fetch(started.post_url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ manifest: JSON.stringify(started.manifest) }).toString(),
  });
  expect(created.status, await created.clone().text()).toBe(302);
  return new URL(created.headers.get('location')!);
}

function callback(back: URL) {
  return fetchWorker(`${back.pathname}${back.search}`, { redirect: 'manual' });
}

async function createdApp(id: number): Promise<CreatedApp> {
  const response = await fetch(`${env.GITHUB_OAUTH_BASE_URL}/_test/apps/${id}`);
  expect(response.status).toBe(200);
  return response.json<CreatedApp>();
}

/** Creates the workspace's app through the whole manifest flow; answers GitHub's record of it. */
async function connectGitHubApp(caller: Caller, workspaceId: string) {
  const back = await submitToGitHub(await startManifest(caller, workspaceId));
  const response = await callback(back);
  expect(response.status, await response.clone().text()).toBe(302);
  const [row] = await db.select().from(githubApps).where(eq(githubApps.workspaceId, workspaceId));
  return createdApp(row!.appId);
}

describe('GitHub App from a manifest', () => {
  let team: Team;
  beforeAll(async () => {
    team = await seedTeam();
  });

  it('answers the manifest, a sealed state and GitHub’s new-app URL to an admin', async () => {
    const started = await startManifest(team.admin, team.workspace.id);
    expect(started.manifest).toMatchObject({
      url: base,
      hook_attributes: { url: `${base}/webhooks/github-app`, active: true },
      redirect_url: `${base}/api/github-app/callback`,
      callback_urls: [`${base}/api/github-app/callback`],
      public: false,
      default_permissions: {
        contents: 'read',
        metadata: 'read',
        statuses: 'write',
        pull_requests: 'write',
      },
      default_events: ['push', 'pull_request'],
    });
    expect(started.manifest.name).toMatch(/^Sparki /);
    const post = new URL(started.post_url);
    expect(`${post.origin}${post.pathname}`).toBe(`${env.GITHUB_OAUTH_BASE_URL}/settings/apps/new`);
    expect(post.searchParams.get('state')).toBe(started.state);
    // Sealed: the workspace id is not readable in it.
    expect(started.state).not.toContain(team.workspace.id);
  });

  it('stores the converted app with its secrets sealed and shows only its id and slug', async () => {
    const before = await as(team.viewer).get<{ connected: boolean }>(
      `/api/workspaces/${team.workspace.id}/github-app`,
    );
    expect(before.status, before.text).toBe(200);
    expect(before.body.connected).toBe(false);

    const back = await submitToGitHub(await startManifest(team.admin, team.workspace.id));
    expect(`${back.origin}${back.pathname}`).toBe(`${base}/api/github-app/callback`);
    const response = await callback(back);
    expect(response.status, await response.clone().text()).toBe(302);
    expect(response.headers.get('location')).toBe(
      `${base}/w/${team.workspace.id}/projects/new?github_app=connected`,
    );

    const [row] = await db
      .select()
      .from(githubApps)
      .where(eq(githubApps.workspaceId, team.workspace.id));
    const app = await createdApp(row!.appId);
    expect(row).toMatchObject({ slug: app.slug, clientId: app.clientId });
    for (const [sealed, plain] of [
      [row!.privateKeyEncrypted, rsaPrivateKeyToPkcs8(app.pem)],
      [row!.webhookSecretEncrypted, app.webhookSecret],
      [row!.clientSecretEncrypted, app.clientSecret],
    ] as const) {
      expect(sealed).not.toContain(plain.slice(0, 40));
      expect(await decryptSecret(env.ENCRYPTION_KEY, sealed)).toBe(plain);
    }

    const shown = await as(team.viewer).get<Record<string, unknown>>(
      `/api/workspaces/${team.workspace.id}/github-app`,
    );
    expect(shown.body).toMatchObject({ connected: true, app_id: app.id, slug: app.slug });
    expect(shown.text).not.toContain(app.webhookSecret);
    expect(shown.text).not.toContain(app.clientSecret);
    expect(shown.text).not.toContain('PRIVATE KEY');

    const audited = await db
      .select()
      .from(auditLogs)
      .where(
        and(
          eq(auditLogs.workspaceId, team.workspace.id),
          eq(auditLogs.action, 'workspace.github_app_connected'),
        ),
      );
    expect(audited).toHaveLength(1);
    expect(audited[0]!.actorId).toBe(team.admin.id);

    // GitHub's code is single use: replaying the redirect is refused.
    const replayed = await callback(back);
    expect(replayed.status).toBe(400);
  });

  it('refuses a forged, foreign or missing state with 400', async () => {
    const started = await startManifest(team.admin, team.workspace.id);
    const back = await submitToGitHub(started);
    const forged = new URL(back);
    forged.searchParams.set('state', `${started.state.slice(0, -4)}AAAA`);
    const refused = await callback(forged);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: 'validation_failed' } });
    const missing = new URL(back);
    missing.searchParams.delete('state');
    expect((await callback(missing)).status).toBe(400);
    // The untouched redirect still works: the refusals did not use the code up.
    expect((await callback(back)).status).toBe(302);
  });

  it('lets only admins start it, and hides a foreign workspace', async () => {
    const path = `/api/workspaces/${team.workspace.id}/github-app/manifest`;
    expect((await anonymous.post(path)).status).toBe(401);
    expect((await as(team.developer).post(path)).status).toBe(403);
    expect((await as(team.viewer).post(path)).status).toBe(403);
    expect([403, 404]).toContain((await as(team.outsider).post(path)).status);
    expect(
      (await as(team.outsider).get(`/api/workspaces/${team.workspace.id}/github-app`)).status,
    ).toBe(404);
  });
});

describe('the GitHub App webhook', () => {
  let team: Team;
  let app: CreatedApp;
  const web = env.GITHUB_OAUTH_BASE_URL.replace(/\/$/, '');
  beforeAll(async () => {
    team = await seedTeam();
    app = await connectGitHubApp(team.admin, team.workspace.id);
  });

  async function deliver(event: string, payload: unknown, secret = app.webhookSecret) {
    const body = JSON.stringify(payload);
    return fetchWorker('/webhooks/github-app', {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-hook-installation-target-id': String(app.id),
        'x-github-hook-installation-target-type': 'integration',
        ...deliveryHeaders('github', event, crypto.randomUUID()),
        ...(await signatureHeaders('github', secret, body)),
      },
    });
  }

  const repo = (name: string) => ({ id: 1, name, full_name: `octo-org/${name}`, private: true });

  async function reachable() {
    const rows = await db
      .select()
      .from(githubAppRepositories)
      .where(eq(githubAppRepositories.workspaceId, team.workspace.id));
    return rows.map((row) => [row.fullName, row.installationId, row.cloneUrl]).sort();
  }

  it('keeps the reachable repositories from installation events', async () => {
    const created = await deliver('installation', {
      action: 'created',
      installation: { id: 77 },
      repositories: [repo('shop'), repo('blog')],
    });
    expect(created.status, await created.clone().text()).toBe(200);
    expect(await reachable()).toEqual([
      ['octo-org/blog', 77, `${web}/octo-org/blog.git`],
      ['octo-org/shop', 77, `${web}/octo-org/shop.git`],
    ]);
    const changed = await deliver('installation_repositories', {
      action: 'added',
      installation: { id: 77 },
      repositories_added: [repo('docs')],
      repositories_removed: [repo('blog')],
    });
    expect(changed.status, await changed.clone().text()).toBe(200);
    expect((await reachable()).map(([name]) => name)).toEqual(['octo-org/docs', 'octo-org/shop']);
  });

  it('lists the reachable repositories and imports one as a project', async () => {
    const listed = await as(team.viewer).get<{ repositories: { full_name: string }[] }>(
      `/api/workspaces/${team.workspace.id}/github-app/repositories`,
    );
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.repositories.map((r) => r.full_name)).toEqual([
      'octo-org/docs',
      'octo-org/shop',
    ]);
    const path = `/api/workspaces/${team.workspace.id}/github-app/import`;
    const imported = await as(team.developer).post<{
      id: string;
      slug: string;
      repo_url: string;
      git_provider: string;
    }>(path, { repository: 'octo-org/docs', production_branch: 'master' });
    expect(imported.status, imported.text).toBe(201);
    expect(imported.body).toMatchObject({
      slug: 'docs',
      repo_url: `${web}/octo-org/docs.git`,
      git_provider: 'github',
    });
    expect(imported.text).not.toContain('whsec_');
    // The same slug again: 409; a repository the app does not reach: 404.
    expect((await as(team.developer).post(path, { repository: 'octo-org/docs' })).status).toBe(409);
    expect((await as(team.developer).post(path, { repository: 'octo-org/blog' })).status).toBe(404);
    expect((await as(team.developer).post(path, { repository: '' })).status).toBe(400);
    expect((await as(team.viewer).post(path, { repository: 'octo-org/shop' })).status).toBe(403);
    expect((await anonymous.post(path, { repository: 'octo-org/shop' })).status).toBe(401);
    expect((await as(team.outsider).post(path, { repository: 'octo-org/shop' })).status).toBe(404);

    // Its pushes arrive through the app's webhook and build it.
    const payload = atRepo(
      'github',
      githubExample('push', (p) => p.ref === 'refs/heads/master'),
      `${web}/octo-org/docs`,
    );
    const pushed = await deliver('push', payload);
    expect(pushed.status, await pushed.clone().text()).toBe(202);
    expect(await pushed.json()).toMatchObject({ status: 'queued', project_id: imported.body.id });

    // Its commit statuses go out as the app: app JWT → installation token → status.
    const sha = payload.after as string;
    const reported = await reportToRepository(
      {
        db,
        encryptionKey: env.ENCRYPTION_KEY,
        fetch: (...args) => fetch(...args),
        logger: createLogger({}, 'error'),
      },
      imported.body.id,
      { sha, state: 'success', context: 'sparki/build', description: 'Built' },
    );
    expect(reported).toBe(true);
    const statuses = await (await fetch(`${env.GITHUB_OAUTH_BASE_URL}/_test/statuses`)).json<
      Record<string, unknown>[]
    >();
    expect(
      statuses.filter(
        (s) => s.sha === sha && s.repo === 'octo-org/docs' && s.description === 'Built',
      ),
    ).toEqual([
      expect.objectContaining({
        state: 'success',
        context: 'sparki/build',
        appId: app.id,
        installationId: 77,
      }),
    ]);
  });

  it('refuses a bad signature or an unknown app', async () => {
    const forged = await deliver(
      'installation',
      { action: 'created', installation: { id: 78 }, repositories: [repo('evil')] },
      'not-the-secret',
    );
    expect(forged.status).toBe(401);
    expect((await reachable()).map(([name]) => name)).not.toContain('octo-org/evil');
    const unnamed = await fetchWorker('/webhooks/github-app', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', ...deliveryHeaders('github', 'push', 'x') },
    });
    expect(unnamed.status).toBe(401);
  });

  it('routes a signed push to the workspace project of that repository, and builds it', async () => {
    const name = `shop-${crypto.randomUUID().slice(0, 8)}`;
    const [project] = await db
      .insert(projects)
      .values({
        workspaceId: team.workspace.id,
        name,
        slug: name,
        gitProvider: 'github',
        repoUrl: `${web}/octo-org/${name}.git`,
        productionBranch: 'master',
      })
      .returning();
    const payload = atRepo(
      'github',
      githubExample('push', (p) => p.ref === 'refs/heads/master'),
      `${web}/octo-org/${name}`,
    );
    const response = await deliver('push', payload);
    expect(response.status, await response.clone().text()).toBe(202);
    const result = await response.json<{ status: string; build_id: string; project_id: string }>();
    expect(result).toMatchObject({ status: 'queued', project_id: project!.id });
    const [build] = await db.select().from(builds).where(eq(builds.id, result.build_id));
    expect(build).toMatchObject({ projectId: project!.id, trigger: 'push', branch: 'master' });

    // A push for a repository no project of the workspace builds is recorded as ignored.
    const elsewhere = await deliver(
      'push',
      atRepo('github', payload, `${web}/octo-org/unknown-${name}`),
    );
    expect(elsewhere.status).toBe(202);
    expect(await elsewhere.json()).toMatchObject({ status: 'ignored' });
  });
});
