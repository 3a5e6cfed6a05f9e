import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { exportPKCS8, exportSPKI, generateKeyPair, importSPKI, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../core/secret-box';
import { builds, deployments, environments, projects, workspaces } from '../../db/schema';
import { drainEnvironment, requestDeployment } from '../../queues/deploy/engine';
import { createLogger } from '../../workers/logger';
import { createServices } from '../../workers/services';
import { newUser } from './auth-helpers';
import { testDb } from './harness';
import { addMember, projectFixture, send } from './project-fixtures';
import { tarGz } from './tar-fixture';

const { db, pool } = testDb();
afterAll(() => pool.end());

const keys = await generateKeyPair('RS256', { extractable: true });
const PRIVATE_KEY = await exportPKCS8(keys.privateKey);
const PUBLIC_KEY = await exportSPKI(keys.publicKey);

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: Record<string, unknown> | undefined;
}

/**
 * GitHub's documented App and status endpoints, and GitLab's: an installation token only for a
 * JWT signed with the app's key, statuses and comments only with that token.
 */
function fakeForge(options: { down?: boolean } = {}) {
  const seen: Seen[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const text = await request.text();
    seen.push({
      method: request.method,
      url,
      headers: request.headers,
      body: text ? JSON.parse(text) : undefined,
    });
    if (options.down) return Response.json({ message: 'Server Error' }, { status: 500 });
    const auth = request.headers.get('authorization') ?? '';
    if (url.pathname === '/app/installations/42/access_tokens') {
      const { payload } = await jwtVerify(
        auth.replace('Bearer ', ''),
        await importSPKI(PUBLIC_KEY, 'RS256'),
      );
      if (payload.iss !== '1234') return Response.json({ message: 'Bad' }, { status: 401 });
      return Response.json({ token: 'ghs_installation' }, { status: 201 });
    }
    if (url.pathname.startsWith('/repos/') && auth !== 'Bearer ghs_installation') {
      return Response.json({ message: 'Bad credentials' }, { status: 401 });
    }
    return Response.json({}, { status: 201 });
  };
  return { fetch, seen };
}

async function seed(input: {
  provider: 'github' | 'gitlab';
  credentials: Record<string, unknown>;
  pullRequest?: number;
  requiredEnv?: string[];
}) {
  const suffix = crypto.randomUUID().slice(0, 8);
  const [workspace] = await db
    .insert(workspaces)
    .values({ name: 'Report', slug: `report-${suffix}` })
    .returning();
  const host = input.provider === 'github' ? 'github.com' : 'gitlab.example.com';
  const [project] = await db
    .insert(projects)
    .values({
      workspaceId: workspace!.id,
      name: 'Site',
      slug: `site-${suffix}`,
      gitProvider: input.provider,
      repoUrl: `https://${host}/acme/site-${suffix}`,
      gitCredentialsEncrypted: await encryptSecret(
        env.ENCRYPTION_KEY,
        JSON.stringify(input.credentials),
      ),
    })
    .returning();
  const [preview] = await db
    .insert(environments)
    .values({
      projectId: project!.id,
      name: 'preview',
      kind: 'preview',
      deployConfig: {
        health_check: { retries: 0, interval_ms: 0 },
        required_env: input.requiredEnv ?? [],
      },
    })
    .returning();
  const sha = 'c'.repeat(40);
  const [build] = await db
    .insert(builds)
    .values({
      projectId: project!.id,
      number: 1,
      commitSha: sha,
      trigger: input.pullRequest ? 'pull_request' : 'push',
      pullRequest: input.pullRequest ?? null,
      status: 'succeeded',
    })
    .returning();
  const artifactKey = `builds/${build!.id}/output.tar.gz`;
  await env.ARTIFACTS.put(artifactKey, await tarGz({ 'index.html': '<h1>hi</h1>' }));
  await db.update(builds).set({ artifactKey }).where(eq(builds.id, build!.id));
  const deployment = await requestDeployment(db, {
    requestKey: `test:${build!.id}`,
    buildId: build!.id,
    projectId: project!.id,
    environmentId: preview!.id,
    stage: 'preview',
  });
  return { repo: `acme/site-${suffix}`, sha, preview: preview!, deployment };
}

function drain(environmentId: string, fetch: (request: Request) => Promise<Response>) {
  const { services } = createServices(env);
  const context = { env, services, logger: createLogger({}, 'error') };
  return drainEnvironment(context, environmentId, { fetch });
}

async function reload(id: string) {
  const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
  return row!;
}

const githubApp = {
  kind: 'github_app',
  app_id: '1234',
  private_key_pem: PRIVATE_KEY,
  installation_id: 42,
  api_base: 'https://github.test',
};

describe('reporting deployments back to the repository', () => {
  it('sets a GitHub commit status through the App and comments the preview URL on the PR', async () => {
    const forge = fakeForge();
    const { repo, sha, preview, deployment } = await seed({
      provider: 'github',
      credentials: githubApp,
      pullRequest: 7,
    });
    await drain(preview.id, forge.fetch);

    const live = await reload(deployment.id);
    expect(live.status).toBe('live');
    expect(forge.seen.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      'POST /app/installations/42/access_tokens',
      `POST /repos/${repo}/statuses/${sha}`,
      `POST /repos/${repo}/issues/7/comments`,
    ]);
    expect(forge.seen[1]!.body).toEqual({
      state: 'success',
      context: 'sparki/deploy (preview)',
      description: 'Live on preview',
      target_url: live.url,
    });
    expect(forge.seen[2]!.body).toEqual({ body: expect.stringContaining(live.url!) });
  });

  it('reports a failed deployment to GitLab with the project token', async () => {
    const forge = fakeForge();
    const { repo, sha, preview, deployment } = await seed({
      provider: 'gitlab',
      credentials: { kind: 'token', token: 'glpat-secret' },
      requiredEnv: ['API_URL'],
    });
    // No api_base: GitLab's API is found on the repository's own host.
    const calls: Seen[] = [];
    await drain(preview.id, async (request) => {
      const response = await forge.fetch(request);
      calls.push(forge.seen.at(-1)!);
      return response;
    });

    expect((await reload(deployment.id)).status).toBe('failed');
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.method).toBe('POST');
    expect(call!.url.origin).toBe('https://gitlab.example.com');
    expect(call!.url.pathname).toBe(`/api/v4/projects/${encodeURIComponent(repo)}/statuses/${sha}`);
    expect(call!.headers.get('private-token')).toBe('glpat-secret');
    expect(call!.url.searchParams.get('state')).toBe('failed');
    expect(call!.url.searchParams.get('name')).toBe('sparki/deploy (preview)');
    expect(call!.url.searchParams.get('description')).toContain('API_URL');
  });

  it('never fails the deployment when the provider is down', async () => {
    const forge = fakeForge({ down: true });
    const { preview, deployment } = await seed({ provider: 'github', credentials: githubApp });
    await drain(preview.id, forge.fetch);
    expect((await reload(deployment.id)).status).toBe('live');
    expect(forge.seen).toHaveLength(1);
  });
});

describe('the git reporting settings API', () => {
  it('stores the App credentials encrypted, shows only their public part, admins only', async () => {
    const { owner, workspace, project } = await projectFixture({ provider: 'github' });
    const viewer = await newUser('viewer');
    await addMember(db, workspace.id, viewer.email, 'viewer');
    const path = `/api/projects/${project.id}/git-reporting`;

    expect(await (await send(viewer.access_token, 'GET', path)).json()).toEqual({
      configured: false,
    });
    expect((await send(viewer.access_token, 'PUT', path, githubApp)).status).toBe(403);
    const wrongKind = await send(owner.access_token, 'PUT', path, { kind: 'token', token: 'x' });
    expect(wrongKind.status).toBe(400);

    const set = await send(owner.access_token, 'PUT', path, githubApp);
    const text = await set.text();
    expect(set.status, text).toBe(200);
    expect(text).not.toContain('PRIVATE KEY');
    expect(JSON.parse(text)).toEqual({
      configured: true,
      kind: 'github_app',
      app_id: '1234',
      installation_id: 42,
      api_base: 'https://github.test',
    });
    const [row] = await db.select().from(projects).where(eq(projects.id, project.id));
    expect(row!.gitCredentialsEncrypted).not.toContain('PRIVATE KEY');

    expect((await send(owner.access_token, 'DELETE', path)).status).toBe(204);
    expect(await (await send(viewer.access_token, 'GET', path)).json()).toEqual({
      configured: false,
    });
  });
});
