import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../core/secret-box';
import { auditLogs, builds, type Environment, environments } from '../../db/schema';
import { RateLimitedError, verifyWebhook } from '../../domain/deployments/adapters';
import type { WebhookPayload } from '../../domain/deployments/adapters/webhook';
import { transitionsOf } from '../../domain/deployments/queries';
import { requestDeployment } from '../../domain/deployments/request';
import { deploymentRow, drain, environmentRow, succeededBuild } from './deploy-helpers';
import { fetchWorker, seedWorkspaceProject, testDb } from './harness';
import { storeContentAddressed, textsOfTarGz } from './tar-fixture';

const { db, pool } = testDb();
afterAll(() => pool.end());

const API = 'https://render.test/v1';
const SITE = 'https://shop.render.test';
const API_KEY = `rnd_${'k'.repeat(24)}`;

/** Render's documented deploy API (create, read, rollback) and the deployed site's health path. */
function fakeRender() {
  const requests: { method: string; path: string; body: unknown; auth: string | null }[] = [];
  const state = {
    healthy: true,
    rateLimitNext: false,
    polls: new Map<string, number>(),
    /** Where the site's health path redirects, when set. */
    healthRedirect: undefined as string | undefined,
  };
  const asked: string[] = [];
  let next = 0;
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    Response.json(body, { status, headers });
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    asked.push(request.url);
    if (url.origin === SITE) {
      if (state.healthRedirect) {
        return new Response(null, { status: 302, headers: { location: state.healthRedirect } });
      }
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
  return { fetch, requests, state, asked };
}

async function seed(credentials: Record<string, string> | null, apiBase = API) {
  const { workspace, project } = await seedWorkspaceProject(db);
  const [production] = await db
    .insert(environments)
    .values({
      projectId: project!.id,
      name: 'production',
      kind: 'production',
      deployTarget: 'render',
      deployConfig: {
        health_check: { path: '/healthz', retries: 0, interval_ms: 0 },
        adapter: { serviceId: 'srv-shop', publicUrl: SITE, apiBase },
      },
      credentialsEncrypted: credentials
        ? await encryptSecret(env.ENCRYPTION_KEY, JSON.stringify(credentials))
        : null,
    })
    .returning();
  let number = 0;
  const deploy = async () => {
    const build = await succeededBuild(db, {
      projectId: project!.id,
      number: ++number,
      commitSha: String(number).repeat(40),
    });
    return requestDeployment(db, {
      requestKey: `test:${build.id}`,
      buildId: build.id,
      projectId: project!.id,
      environmentId: production!.id,
      stage: 'production',
    });
  };
  return { workspace: workspace!, production: production!, deploy };
}

/** The engine, calling the provider's fake and never waiting between polls. */
function drainWith(environmentId: string, fetch: (request: Request) => Promise<Response>) {
  return drain(environmentId, { fetch, sleep: async () => {} });
}

describe('the deploy engine on an external platform (Render)', () => {
  it('sends nothing to a platform API on a private network, whatever the stored settings say', async () => {
    const render = fakeRender();
    const { production, deploy } = await seed({ apiKey: API_KEY }, 'https://10.0.0.7/v1');
    const deployment = await deploy();

    await drainWith(production.id, render.fetch);

    const done = await deploymentRow(db, deployment.id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('not sent: https://10.0.0.7/v1/services/srv-shop/deploys');
    expect(done.error).toContain('must be a public host');
    expect(render.requests).toEqual([]);
  });

  it('does not follow the site’s health check to a private network', async () => {
    const render = fakeRender();
    render.state.healthRedirect = 'http://169.254.169.254/latest/meta-data/';
    const { production, deploy } = await seed({ apiKey: API_KEY });
    const deployment = await deploy();

    await drainWith(production.id, render.fetch);

    const done = await deploymentRow(db, deployment.id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('not sent: http://169.254.169.254/latest/meta-data/');
    expect(render.asked).toContain(`${SITE}/healthz`);
    expect(render.asked.filter((url) => url.includes('169.254'))).toEqual([]);
  });

  it('deploys the commit through the adapter, polls until live and checks the reported URL', async () => {
    const render = fakeRender();
    const { production, deploy } = await seed({ apiKey: API_KEY });
    const deployment = await deploy();
    expect(deployment.platform).toBe('render');

    await drainWith(production.id, render.fetch);

    const done = await deploymentRow(db, deployment.id);
    expect(done).toMatchObject({ status: 'live', url: SITE, providerRef: { id: 'dep-1' } });
    expect(render.requests[0]).toEqual({
      method: 'POST',
      path: '/deploys',
      body: { clearCache: 'do_not_clear', commitId: '1'.repeat(40) },
      auth: `Bearer ${API_KEY}`,
    });
    expect(render.requests.filter((r) => r.path === '/deploys/dep-1')).toHaveLength(2);
    expect(done.healthResults).toEqual([expect.objectContaining({ ok: true })]);
    expect((await environmentRow(db, production.id)).liveDeploymentId).toBe(deployment.id);
    const transitions = await transitionsOf(db, deployment.id);
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
    await drainWith(production.id, render.fetch);
    const failed = await deploymentRow(db, deployment.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('credentials.apiKey: missing credential apiKey');
    expect(render.requests).toEqual([]);
  });

  it('rolls production back on the provider when the health check fails, and audits it', async () => {
    const render = fakeRender();
    const { workspace, production, deploy } = await seed({ apiKey: API_KEY });
    const first = await deploy();
    await drainWith(production.id, render.fetch);
    expect((await deploymentRow(db, first.id)).status).toBe('live');

    render.state.healthy = false;
    const second = await deploy();
    await drainWith(production.id, render.fetch);

    const rolledBack = await deploymentRow(db, second.id);
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
    expect((await environmentRow(db, production.id)).liveDeploymentId).toBe(first.id);
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

    await expect(drainWith(production.id, render.fetch)).rejects.toBeInstanceOf(RateLimitedError);
    const paused = await deploymentRow(db, deployment.id);
    expect(paused).toMatchObject({ status: 'deploying', startedAt: null, providerRef: null });

    await drainWith(production.id, render.fetch);
    expect(await deploymentRow(db, deployment.id)).toMatchObject({
      status: 'live',
      providerRef: { id: 'dep-1' },
    });
    const created = render.requests.filter((r) => r.method === 'POST' && r.path === '/deploys');
    // The refused request and the one that went through; nothing created twice.
    expect(created).toHaveLength(2);
    expect(render.requests.filter((r) => r.path === '/deploys/dep-2')).toEqual([]);
  });
});

const SHA = 'b'.repeat(40);
const HOOK = 'https://hooks.shop.test/deploy';
const HOOK_SECRET = `whsec_${'h'.repeat(40)}`;

/** A workspace and project with environments of the given targets, and a way to add builds. */
async function seedProject(
  environmentsToAdd: {
    kind: 'preview' | 'production';
    target: string;
    deployConfig: Record<string, unknown>;
    credentials: Record<string, string> | null;
  }[],
) {
  const { project } = await seedWorkspaceProject(db);
  const created: Environment[] = [];
  for (const spec of environmentsToAdd) {
    const [row] = await db
      .insert(environments)
      .values({
        projectId: project!.id,
        name: spec.kind,
        kind: spec.kind,
        deployTarget: spec.target,
        deployConfig: spec.deployConfig,
        credentialsEncrypted: spec.credentials
          ? await encryptSecret(env.ENCRYPTION_KEY, JSON.stringify(spec.credentials))
          : null,
      })
      .returning();
    created.push(row!);
  }
  let number = 0;
  const build = async (
    overrides: {
      branch?: string | null;
      output?: Record<string, string>;
      /** As the runner uploads it: a pack of its blobs and a manifest, no archive. */
      contentAddressed?: boolean;
    } = {},
  ) => {
    const { output, contentAddressed } = overrides;
    const row = await succeededBuild(db, {
      projectId: project!.id,
      number: ++number,
      commitSha: SHA,
      branch: overrides.branch === undefined ? 'main' : overrides.branch,
      ...(output && !contentAddressed && { output }),
    });
    if (output && contentAddressed) {
      const outputManifestKey = await storeContentAddressed(row.id, output, db);
      await db.update(builds).set({ outputManifestKey }).where(eq(builds.id, row.id));
      return { ...row, outputManifestKey };
    }
    return row;
  };
  const deploy = (environment: Environment, buildId: string, promotedFromId?: string) =>
    requestDeployment(db, {
      requestKey: `test:${crypto.randomUUID()}`,
      buildId,
      projectId: project!.id,
      environmentId: environment.id,
      stage: environment.kind,
      ...(promotedFromId ? { promotedFromId } : {}),
    });
  return { environments: created, build, deploy };
}

/** Fly's Machines API as far as a first deploy goes: list, create, wait, then read back. */
function fakeFly() {
  const created: { image: string }[] = [];
  const requests: string[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.origin === SITE) return new Response('ok');
    requests.push(`${request.method} ${url.pathname}`);
    if (url.pathname === '/v1/apps/shop-api/machines' && request.method === 'GET') {
      return Response.json(
        created.map((config, index) => ({
          id: `m${index}`,
          state: 'started',
          instance_id: `i${index}`,
          config,
        })),
      );
    }
    if (url.pathname === '/v1/apps/shop-api/machines' && request.method === 'POST') {
      const body = await request.json<{ config: { image: string } }>();
      created.push(body.config);
      return Response.json({
        id: `m${created.length - 1}`,
        state: 'created',
        instance_id: `i${created.length - 1}`,
        config: body.config,
      });
    }
    if (url.pathname.endsWith('/wait')) return Response.json({ ok: true });
    return Response.json({ error: 'not found' }, { status: 404 });
  };
  return { fetch, created, requests };
}

/** A build deployed to the one production environment `spec` sets up, drained; both as stored. */
async function deployToProduction(
  spec: Parameters<typeof seedProject>[0][number],
  fetch: (request: Request) => Promise<Response>,
  overrides: Parameters<Awaited<ReturnType<typeof seedProject>>['build']>[0] = {},
) {
  const {
    environments: [production],
    build,
    deploy,
  } = await seedProject([spec]);
  const built = await build(overrides);
  const { id } = await deploy(production!, built.id);
  await drainWith(production!.id, fetch);
  return { built, deployment: await deploymentRow(db, id) };
}

const flyEnvironment = (image?: string) => ({
  kind: 'production' as const,
  target: 'fly_machines',
  deployConfig: {
    health_check: { path: '/', retries: 0, interval_ms: 0 },
    ...(image ? { image } : {}),
    adapter: { appName: 'shop-api', publicUrl: SITE, apiBase: 'https://fly.test' },
  },
  credentials: { apiToken: 'fo1_token' },
});

describe('container images for image-based platforms', () => {
  it('fills the environment’s image template for the build and deploys that image', async () => {
    const fly = fakeFly();
    const { deployment } = await deployToProduction(
      flyEnvironment('registry.fly.io/shop-api:{branch}-{short_sha}-{build_number}'),
      fly.fetch,
      { branch: 'Feature/Cart' },
    );

    expect(deployment).toMatchObject({
      status: 'live',
      providerRef: { data: { image: 'registry.fly.io/shop-api:feature-cart-bbbbbbb-1' } },
    });
    expect(fly.created.map((config) => config.image)).toEqual([
      'registry.fly.io/shop-api:feature-cart-bbbbbbb-1',
    ]);
  });

  it('names the missing image setting and calls nothing when the environment has no template', async () => {
    const fly = fakeFly();
    const { deployment: failed } = await deployToProduction(flyEnvironment(), fly.fetch);

    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(
      'Validation failed: artifact.image: Fly.io Machines runs a container image and the build ' +
        'has none: set deploy_config.image to the reference the build pushes, e.g. ' +
        'registry.example.com/app:{commit_sha}',
    );
    expect(fly.requests).toEqual([]);
  });

  it('says why a build cannot fill the template, once', async () => {
    const fly = fakeFly();
    const { deployment } = await deployToProduction(
      flyEnvironment('registry.fly.io/shop-api:{branch}-{short_sha}'),
      fly.fetch,
      { branch: null },
    );

    expect(deployment.error).toBe(
      'Validation failed: deploy_config.image: the build has no branch to fill {branch} (a tag ' +
        'or manual build)',
    );
    expect(fly.requests).toEqual([]);
  });
});

interface Delivery {
  url: string;
  payload: WebhookPayload;
  signed: boolean;
  download?: { status: number; bytes: Uint8Array };
}

/** A receiver written from docs/deploy-adapters.md: checks the signature, fetches the build. */
function fakeReceiver() {
  const deliveries: Delivery[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const body = await request.text();
    const payload = JSON.parse(body) as WebhookPayload;
    const delivery: Delivery = {
      url: request.url,
      payload,
      signed: await verifyWebhook({
        secret: HOOK_SECRET,
        timestamp: request.headers.get('x-sparki-timestamp'),
        signature: request.headers.get('x-sparki-signature'),
        body,
      }),
    };
    if (payload.artifact_url) {
      const link = new URL(payload.artifact_url);
      expect(link.origin).toBe(new URL(env.PUBLIC_URL).origin);
      const response = await fetchWorker(`${link.pathname}${link.search}`);
      delivery.download = {
        status: response.status,
        bytes: new Uint8Array(await response.arrayBuffer()),
      };
    }
    deliveries.push(delivery);
    return Response.json({}, { status: 202 });
  };
  return { fetch, deliveries };
}

const webhookEnvironment = (kind: 'preview' | 'production', url = HOOK) => ({
  kind,
  target: 'webhook',
  deployConfig: { adapter: { url } },
  credentials: { secret: HOOK_SECRET },
});

describe('the signed webhook receives a download link for the build', () => {
  it('hands over a signed link the receiver downloads the output archive with', async () => {
    const receiver = fakeReceiver();
    const { built, deployment } = await deployToProduction(
      webhookEnvironment('production'),
      receiver.fetch,
      { output: { 'index.html': '<h1>shop</h1>' } },
    );

    expect(deployment.status).toBe('live');
    const [delivery] = receiver.deliveries;
    expect(delivery).toMatchObject({
      signed: true,
      payload: { event: 'deploy', build: { id: built.id, commit_sha: SHA } },
      download: { status: 200 },
    });
    const stored = await env.ARTIFACTS.get(`builds/${built.id}/output.tar.gz`);
    expect(delivery!.download!.bytes).toEqual(new Uint8Array(await stored!.arrayBuffer()));
    const link = new URL(delivery!.payload.artifact_url!);
    expect(link.pathname).toBe(`/api/artifacts/${built.id}/output.tar.gz`);
    const expires = Number(link.searchParams.get('expires'));
    expect(expires - Date.now() / 1000).toBeGreaterThan(3500);
    expect(expires - Date.now() / 1000).toBeLessThanOrEqual(3600);
  });

  it('links an output uploaded content-addressed as an archive assembled from its blobs', async () => {
    const receiver = fakeReceiver();
    // Unique content: which pack holds a blob is kept in the database all test files share.
    const marker = crypto.randomUUID();
    const files = {
      'index.html': `<h1>${marker}</h1>`,
      'assets/app.js': `console.log("${marker}")`,
    };
    const { deployment } = await deployToProduction(
      webhookEnvironment('production'),
      receiver.fetch,
      {
        output: files,
        contentAddressed: true,
      },
    );

    expect(deployment.status).toBe('live');
    const [delivery] = receiver.deliveries;
    expect(delivery?.download?.status).toBe(200);
    expect(await textsOfTarGz(delivery!.download!.bytes)).toEqual(files);
  });
});

/** A build deployed to preview, then that deployment promoted to production; each drained. */
async function promoteThroughPreview(
  environmentsToAdd: Parameters<typeof seedProject>[0],
  fetch: (request: Request) => Promise<Response>,
  output?: Record<string, string>,
) {
  const {
    environments: [preview, production],
    build,
    deploy,
  } = await seedProject(environmentsToAdd);
  const built = await build(output ? { output } : {});
  const first = await deploy(preview!, built.id);
  await drainWith(preview!.id, fetch);
  const firstAfterPreview = await deploymentRow(db, first.id);
  const promoted = await deploy(production!, built.id, first.id);
  await drainWith(production!.id, fetch);
  return { first, firstAfterPreview, promoted, production: production! };
}

async function deployingReason(deploymentId: string) {
  const transitions = await transitionsOf(db, deploymentId);
  return transitions.find((t) => t.toStatus === 'deploying')!.reason;
}

describe('promoting to an external production environment', () => {
  it('promotes the provider’s own deployment when preview and production share adapter and target', async () => {
    const receiver = fakeReceiver();
    const { first, firstAfterPreview, promoted, production } = await promoteThroughPreview(
      [webhookEnvironment('preview'), webhookEnvironment('production')],
      receiver.fetch,
      { 'index.html': 'one' },
    );
    expect(firstAfterPreview).toMatchObject({ status: 'live', providerRef: { id: first.id } });

    expect(await deploymentRow(db, promoted.id)).toMatchObject({
      status: 'live',
      promotedFromId: first.id,
      providerRef: { id: first.id },
    });
    expect(receiver.deliveries.map((d) => [d.payload.event, d.payload.deployment.id])).toEqual([
      ['deploy', first.id],
      ['promote', first.id],
    ]);
    expect(await deployingReason(promoted.id)).toBe(
      `native promote of ${first.id}: Signed deploy webhook switches production to its ` +
        `deployment ${first.id}, nothing is redeployed`,
    );
    expect((await environmentRow(db, production.id)).liveDeploymentId).toBe(promoted.id);
  });

  it('deploys the build again when production is another target of the adapter', async () => {
    const receiver = fakeReceiver();
    const { first, promoted } = await promoteThroughPreview(
      [
        webhookEnvironment('preview'),
        webhookEnvironment('production', 'https://hooks.shop.test/production'),
      ],
      receiver.fetch,
      { 'index.html': 'one' },
    );

    expect(await deploymentRow(db, promoted.id)).toMatchObject({
      status: 'live',
      providerRef: { id: promoted.id },
    });
    expect(
      receiver.deliveries.map((d) => [d.url, d.payload.event, d.payload.deployment.id]),
    ).toEqual([
      [HOOK, 'deploy', first.id],
      ['https://hooks.shop.test/production', 'deploy', promoted.id],
    ]);
    expect(await deployingReason(promoted.id)).toBe(
      `promote of ${first.id} by redeploying the build: its environment deploys to another ` +
        'Signed deploy webhook target',
    );
  });

  it('deploys the build again on a platform without native promote', async () => {
    const render = fakeRender();
    const renderEnvironment = (kind: 'preview' | 'production') => ({
      kind,
      target: 'render',
      deployConfig: {
        health_check: { path: '/healthz', retries: 0, interval_ms: 0 },
        adapter: { serviceId: 'srv-shop', publicUrl: SITE, apiBase: API },
      },
      credentials: { apiKey: API_KEY },
    });
    const { first, promoted } = await promoteThroughPreview(
      [renderEnvironment('preview'), renderEnvironment('production')],
      render.fetch,
    );

    expect(await deploymentRow(db, promoted.id)).toMatchObject({
      status: 'live',
      providerRef: { id: 'dep-2' },
    });
    expect(render.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([
      '/deploys',
      '/deploys',
    ]);
    expect(await deployingReason(promoted.id)).toBe(
      `promote of ${first.id} by redeploying the build: Render has no native promote`,
    );
  });
});
