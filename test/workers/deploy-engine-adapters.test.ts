import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../core/secret-box';
import {
  auditLogs,
  builds,
  deployments,
  deploymentTransitions,
  environments,
  projects,
  workspaces,
} from '../../db/schema';
import { RateLimitedError } from '../../queues/deploy/adapters';
import { drainEnvironment, requestDeployment } from '../../queues/deploy/engine';
import { createLogger } from '../../workers/logger';
import { createServices } from '../../workers/services';
import { testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

const API = 'https://render.test/v1';
const SITE = 'https://shop.render.test';
const API_KEY = `rnd_${'k'.repeat(24)}`;

/** Render's documented deploy API (create, read, rollback) and the deployed site's health path. */
function fakeRender() {
  const requests: { method: string; path: string; body: unknown; auth: string | null }[] = [];
  const state = { healthy: true, rateLimitNext: false, polls: new Map<string, number>() };
  let next = 0;
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    Response.json(body, { status, headers });
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.origin === SITE) {
      return new Response(state.healthy ? 'ok' : 'down', { status: state.healthy ? 200 : 503 });
    }
    const path = url.pathname.replace('/v1/services/srv-shop', '');
    const text = await request.text();
    requests.push({
      method: request.method,
      path,
      body: text ? JSON.parse(text) : undefined,
      auth: request.headers.get('authorization'),
    });
    if (state.rateLimitNext) {
      state.rateLimitNext = false;
      return json({ message: 'Rate limit exceeded' }, 429, { 'retry-after': '30' });
    }
    if (request.method === 'POST' && (path === '/deploys' || path === '/rollback')) {
      return json({ id: `dep-${++next}`, status: 'build_in_progress' }, 201);
    }
    const polled = /^\/deploys\/(dep-\d+)$/.exec(path);
    if (request.method === 'GET' && polled) {
      const id = polled[1]!;
      const count = (state.polls.get(id) ?? 0) + 1;
      state.polls.set(id, count);
      // In progress on the first look, live after: the engine has to poll.
      return json({ id, status: count > 1 ? 'live' : 'build_in_progress' });
    }
    return json({ message: 'not found' }, 404);
  };
  return { fetch, requests, state };
}

async function seed(credentials: Record<string, string> | null) {
  const suffix = crypto.randomUUID().slice(0, 8);
  const [workspace] = await db
    .insert(workspaces)
    .values({ name: 'Render', slug: `render-${suffix}` })
    .returning();
  const [project] = await db
    .insert(projects)
    .values({ workspaceId: workspace!.id, name: 'Shop', slug: `shop-${suffix}` })
    .returning();
  const [production] = await db
    .insert(environments)
    .values({
      projectId: project!.id,
      name: 'production',
      kind: 'production',
      deployTarget: 'render',
      deployConfig: {
        health_check: { path: '/healthz', retries: 0, interval_ms: 0 },
        adapter: { serviceId: 'srv-shop', publicUrl: SITE, apiBase: API },
      },
      credentialsEncrypted: credentials
        ? await encryptSecret(env.ENCRYPTION_KEY, JSON.stringify(credentials))
        : null,
    })
    .returning();
  let number = 0;
  const deploy = async () => {
    const [build] = await db
      .insert(builds)
      .values({
        projectId: project!.id,
        number: ++number,
        commitSha: String(number).repeat(40),
        trigger: 'push',
        status: 'succeeded',
      })
      .returning();
    return requestDeployment(db, {
      requestKey: `test:${build!.id}`,
      buildId: build!.id,
      projectId: project!.id,
      environmentId: production!.id,
      stage: 'production',
    });
  };
  return { workspace: workspace!, production: production!, deploy };
}

function drain(environmentId: string, fetch: (request: Request) => Promise<Response>) {
  const { services } = createServices(env);
  const context = { env, services, logger: createLogger({}, 'error') };
  return drainEnvironment(context, environmentId, { fetch, sleep: async () => {} });
}

async function reload(id: string) {
  const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
  return row!;
}

describe('the deploy engine on an external platform (Render)', () => {
  it('deploys the commit through the adapter, polls until live and checks the reported URL', async () => {
    const render = fakeRender();
    const { production, deploy } = await seed({ apiKey: API_KEY });
    const deployment = await deploy();
    expect(deployment.platform).toBe('render');

    await drain(production.id, render.fetch);

    const done = await reload(deployment.id);
    expect(done).toMatchObject({ status: 'live', url: SITE, providerRef: { id: 'dep-1' } });
    expect(render.requests[0]).toEqual({
      method: 'POST',
      path: '/deploys',
      body: { clearCache: 'do_not_clear', commitId: '1'.repeat(40) },
      auth: `Bearer ${API_KEY}`,
    });
    expect(render.requests.filter((r) => r.path === '/deploys/dep-1')).toHaveLength(2);
    expect(done.healthResults).toEqual([expect.objectContaining({ ok: true })]);
    const [environment] = await db
      .select()
      .from(environments)
      .where(eq(environments.id, production.id));
    expect(environment!.liveDeploymentId).toBe(deployment.id);
    const transitions = await db
      .select()
      .from(deploymentTransitions)
      .where(eq(deploymentTransitions.deploymentId, deployment.id))
      .orderBy(deploymentTransitions.at);
    expect(transitions.map((t) => t.toStatus)).toEqual([
      'validating',
      'deploying',
      'verifying',
      'live',
    ]);
  });

  it('fails validation naming the missing credential, and sends the provider nothing', async () => {
    const render = fakeRender();
    const { production, deploy } = await seed(null);
    const deployment = await deploy();
    await drain(production.id, render.fetch);
    const failed = await reload(deployment.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('credentials.apiKey: missing credential apiKey');
    expect(render.requests).toEqual([]);
  });

  it('rolls production back on the provider when the health check fails, and audits it', async () => {
    const render = fakeRender();
    const { workspace, production, deploy } = await seed({ apiKey: API_KEY });
    const first = await deploy();
    await drain(production.id, render.fetch);
    expect((await reload(first.id)).status).toBe('live');

    render.state.healthy = false;
    const second = await deploy();
    await drain(production.id, render.fetch);

    const rolledBack = await reload(second.id);
    expect(rolledBack).toMatchObject({
      status: 'rolled_back',
      rolledBackToId: first.id,
      providerRef: { id: 'dep-2' },
    });
    expect(rolledBack.error).toMatch(/Health check failed at https:\/\/shop\.render\.test/);
    expect(render.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/rollback',
      body: { deployId: 'dep-1' },
    });
    const [environment] = await db
      .select()
      .from(environments)
      .where(eq(environments.id, production.id));
    expect(environment!.liveDeploymentId).toBe(first.id);
    const audits = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.workspaceId, workspace.id), eq(auditLogs.targetId, second.id)));
    expect(audits.map((a) => a.action)).toEqual(['deployment.rolled_back']);
  });

  it('hands a rate-limited deployment back to the queue and resumes it without deploying twice', async () => {
    const render = fakeRender();
    const { production, deploy } = await seed({ apiKey: API_KEY });
    const deployment = await deploy();
    render.state.rateLimitNext = true;

    await expect(drain(production.id, render.fetch)).rejects.toBeInstanceOf(RateLimitedError);
    const paused = await reload(deployment.id);
    expect(paused).toMatchObject({ status: 'deploying', startedAt: null, providerRef: null });

    await drain(production.id, render.fetch);
    expect(await reload(deployment.id)).toMatchObject({
      status: 'live',
      providerRef: { id: 'dep-1' },
    });
    const created = render.requests.filter((r) => r.method === 'POST' && r.path === '/deploys');
    // The refused request and the one that went through; nothing created twice.
    expect(created).toHaveLength(2);
    expect(render.requests.filter((r) => r.path === '/deploys/dep-2')).toEqual([]);
  });
});
