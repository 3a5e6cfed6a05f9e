import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servesCanary } from '../../core/hosting/canary';
import { type Build, type E2E, git, startE2E, withBindings, withDb } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * Build to live with nothing faked (issue 5): the dev stack, a real runner building real
 * commits, the deploy engine on the real deployments queue, and the edge host answering by Host
 * header exactly as a browser at `*.localhost` reaches it.
 */

// The page is the commit's page.html; app.js never changes, so its blob is stored once. Both
// name the site: blobs are shared by content across projects, and no two tests share content.
const buildJs = (site: string) => `
const fs = require('node:fs');
fs.mkdirSync('dist', { recursive: true });
fs.copyFileSync('page.html', 'dist/index.html');
fs.writeFileSync('dist/app.js', 'console.log("${site}: same in every version")');
`;
const HEALTHY = '<p data-health="ok"></p>';
const sitePage = (site: string, version: string, healthy = true) =>
  `<h1>${site} ${version}</h1>${healthy ? HEALTHY : ''}\n`;
const siteFiles = (site: string) => ({
  'package.json': JSON.stringify({
    name: site,
    private: true,
    scripts: { build: 'node build.js' },
  }),
  'build.js': buildJs(site),
  'page.html': sitePage(site, 'v1'),
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: wrangler colours its log lines.
const ANSI = /\x1b\[[0-9;]*m/g;

interface Deployment {
  id: string;
  build_id: string;
  environment_id: string;
  stage: 'preview' | 'production';
  strategy: string;
  status: string;
  url: string | null;
  error: string | null;
  canary_percent: number | null;
  rolled_back_to_id: string | null;
}

interface Visit {
  status: number;
  body: string;
  setCookie: string[];
}

describe('build to live, end to end', () => {
  let e2e: E2E;
  let port: number;

  /** A request to the stack as a browser at `host` makes it (`*.localhost` is the loopback). */
  function visit(host: string, visitor?: string): Promise<Visit> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          headers: {
            host: `${host}:${port}`,
            ...(visitor ? { cookie: `sparki_visitor=${visitor}` } : {}),
          },
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body,
              setCookie: response.headers['set-cookie'] ?? [],
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end();
    });
  }

  /**
   * The content-addressed blobs the edge host has stored: objects of their own in the stack's R2
   * state, and those a runner's batch put in a pack (a `packed_blobs` row each).
   */
  const blobCount = async () => {
    const objects = await withBindings(e2e.stateDir, async (env) => {
      let count = 0;
      let cursor: string | undefined;
      do {
        const page = await env.SITES.list({ prefix: 'blobs/', cursor });
        count += page.objects.length;
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      return count;
    });
    const packed = await withDb(e2e.stack.postgresUrl, async (db) => {
      const { rows } = await db.execute<{ count: number }>(
        sql`select count(*)::int as count from packed_blobs`,
      );
      return rows[0]!.count;
    });
    return objects + packed;
  };

  /**
   * A test's own site: a project on a repository of its own, whose production checks the page
   * for the health marker (one attempt), so no test sees another's builds or deployments.
   */
  async function newSite(name: string) {
    const site = await e2e.newProject(siteFiles(name), name);
    const { environments } = await e2e.api<{
      environments: { id: string; kind: string }[];
    }>('GET', `/api/projects/${site.project.id}/environments`);
    const productionEnvironmentId = environments.find((env) => env.kind === 'production')!.id;
    const settingsPath = `/api/environments/${productionEnvironmentId}/deploy-settings`;
    await e2e.api('PATCH', settingsPath, {
      deploy_config: { health_check: { body_contains: HEALTHY, retries: 0, interval_ms: 0 } },
    });

    const deployments = async () =>
      (
        await e2e.api<{ deployments: Deployment[] }>(
          'GET',
          `/api/projects/${site.project.id}/deployments?limit=100`,
        )
      ).deployments;

    /** The deployment of a build on a stage, once it has ended; any end but `expected` fails. */
    const deploymentEnded = (
      buildId: string,
      stage: Deployment['stage'],
      expected: string,
      ms = 60_000,
    ) =>
      e2e.waitFor(
        `the ${stage} deployment of build ${buildId} to end ${expected}`,
        async () => {
          const found = (await deployments()).find(
            (d) => d.build_id === buildId && d.stage === stage,
          );
          if (!found || !['live', 'failed', 'rolled_back', 'canceled'].includes(found.status)) {
            return undefined;
          }
          // A production deployment is stored failed a moment before it is rolled back.
          if (found.status === 'failed' && expected === 'rolled_back') return undefined;
          expect(found, `deployment ${found.id}: ${found.error}`).toMatchObject({
            status: expected,
          });
          return found;
        },
        ms,
      );

    async function pushBuild(branch: string, sha: string, deliveryId = randomUUID()) {
      const delivered = await site.deliver(deliveryId, sha, branch);
      expect(delivered.body.status).toBe('queued');
      return (await e2e.buildSucceeded(delivered.body.build_id!)) as Build;
    }

    /** Pushes the repository's `main` as it is and waits for production to serve it. */
    async function liveOnMain() {
      const build = await pushBuild('main', git(site.repo, 'rev-parse', 'HEAD'));
      return { build, deployment: await deploymentEnded(build.id, 'production', 'live') };
    }

    return {
      ...site,
      page: (version: string, healthy = true) => sitePage(name, version, healthy),
      settingsPath,
      productionEnvironmentId,
      deployments,
      deploymentEnded,
      pushBuild,
      liveOnMain,
    };
  }

  /** The site's production host, from any of its deployments' own URLs (`<id>--<label>`). */
  function productionHost(deployment: Deployment) {
    const host = new URL(deployment.url!).hostname;
    return host.slice(host.indexOf('--') + 2);
  }

  /** A deployment is never made twice for the same build and environment. */
  function expectOneDeploymentPerBuildAndEnvironment(all: Deployment[]) {
    const pairs = all.map((d) => `${d.build_id}:${d.environment_id}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  }

  beforeAll(async () => {
    e2e = await startE2E(siteFiles('e2e'));
    port = Number(new URL(e2e.base).port);
    const runner = await e2e.registerRunner('runner-deploy');
    e2e.startRunner(runner.config);
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (e2e) await e2e.stop();
  });

  it('a pushed branch gets a preview deployment serving it; promoting it puts it in production', async () => {
    const site = await newSite('promote');
    const blobsBefore = await blobCount();
    git(site.repo, 'checkout', '--quiet', '-b', 'feature');
    const build = await site.pushBuild('feature', git(site.repo, 'rev-parse', 'HEAD'));

    const preview = await site.deploymentEnded(build.id, 'preview', 'live');
    // With the stack's port, as a browser opens it.
    expect(preview.url).toMatch(new RegExp(`^http://[a-z0-9-]+--[a-z0-9-]+\\.localhost:${port}$`));
    expect(await visit(new URL(preview.url!).hostname)).toMatchObject({
      status: 200,
      body: site.page('v1'),
    });
    // Nothing is in production yet.
    expect((await visit(productionHost(preview))).status).toBe(404);
    // The page and app.js, both new to the store.
    const blobsAfterPreview = await blobCount();
    expect(blobsAfterPreview - blobsBefore).toBe(2);

    await e2e.api('POST', `/api/deployments/${preview.id}/promote`);
    const promoted = await site.deploymentEnded(build.id, 'production', 'live');
    expect(promoted.environment_id).toBe(site.productionEnvironmentId);
    expect(await visit(productionHost(preview))).toMatchObject({
      status: 200,
      body: site.page('v1'),
    });
    // Promotion reuses what the preview uploaded.
    expect(await blobCount()).toBe(blobsAfterPreview);
    const all = await site.deployments();
    expect(all).toHaveLength(2);
    expectOneDeploymentPerBuildAndEnvironment(all);
  }, 180_000);

  it('a production deployment failing its health check is rolled back, production keeps serving, the rollback is audited', async () => {
    const site = await newSite('rollback');
    const { deployment: healthy } = await site.liveOnMain();
    const blobsBefore = await blobCount();
    const sha = await site.commit({ 'page.html': site.page('v2', false) }, 'v2 without the marker');
    const brokenBuild = await site.pushBuild('main', sha);

    const broken = await site.deploymentEnded(brokenBuild.id, 'production', 'rolled_back');
    expect(broken.rolled_back_to_id).toBe(healthy.id);
    expect(broken.error).toContain('body does not contain');
    // Its own URL shows what was deployed; production never stopped serving v1.
    expect((await visit(new URL(broken.url!).hostname)).body).toBe(site.page('v2', false));
    expect(await visit(productionHost(healthy))).toMatchObject({
      status: 200,
      body: site.page('v1'),
    });
    // Only the changed page was a new blob.
    expect(await blobCount()).toBe(blobsBefore + 1);

    const { entries } = await e2e.api<{
      entries: { action: string; target_id: string | null; metadata: Record<string, unknown> }[];
    }>(
      'GET',
      `/api/workspaces/${e2e.workspaceId}/audit-log?action=deployment.rolled_back&target_id=${broken.id}`,
    );
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'deployment.rolled_back',
        target_id: broken.id,
        metadata: expect.objectContaining({ automatic: true, to: healthy.id }),
      }),
    ]);
  }, 180_000);

  it('a good release goes live; redeploying its unchanged output uploads no blob', async () => {
    const site = await newSite('redeploy');
    const blobsBefore = await blobCount();
    const { build, deployment: live } = await site.liveOnMain();
    expect(await visit(productionHost(live))).toMatchObject({
      status: 200,
      body: site.page('v1'),
    });
    const blobs = await blobCount();
    expect(blobs - blobsBefore).toBe(2);

    await e2e.api('POST', `/api/builds/${build.id}/deploy`, { stage: 'preview' });
    const redeployed = await site.deploymentEnded(build.id, 'preview', 'live');
    expect(redeployed.id).not.toBe(live.id);
    expect((await visit(new URL(redeployed.url!).hostname)).body).toBe(site.page('v1'));
    expect(await blobCount()).toBe(blobs);

    // Building the same commit again: the runner asks which blobs are missing and sends none.
    const rebuilt = await e2e.api<Build>('POST', `/api/builds/${build.id}/retry`);
    await e2e.buildSucceeded(rebuilt.id);
    const log = await (
      await fetch(`${e2e.base}/api/builds/${rebuilt.id}/logs.txt`, {
        headers: { authorization: `Bearer ${e2e.token()}` },
      })
    ).text();
    expect(log).toMatch(/\d+ files; 0 new \(0 B\) to upload/);
    await site.deploymentEnded(rebuilt.id, 'production', 'live');
    expect(await blobCount()).toBe(blobs);
    const all = await site.deployments();
    expect(all).toHaveLength(3);
    expectOneDeploymentPerBuildAndEnvironment(all);
  }, 240_000);

  it('a canary at 20% serves the new version to about a fifth of visitors, each always the same', async () => {
    const site = await newSite('canary');
    const { deployment: stable } = await site.liveOnMain();
    const host = productionHost(stable);
    // Production switches to canary releases: 20%, then all, each share serving 60 s first:
    // long enough that sampling 200 visitors (in parallel batches) ends inside the 20% step.
    const settings = await e2e.api<{ deploy_config: Record<string, unknown> }>(
      'GET',
      site.settingsPath,
    );
    await e2e.api('PATCH', site.settingsPath, {
      strategy: 'canary',
      deploy_config: {
        ...settings.deploy_config,
        canary_steps: [20, 100],
        canary_interval_seconds: 60,
      },
    });
    const sha = await site.commit({ 'page.html': site.page('v2') }, 'v2');
    const canaryBuild = await site.pushBuild('main', sha);
    const canary = await e2e.waitFor(
      'the canary to serve 20%',
      async () => {
        const found = (await site.deployments()).find((d) => d.build_id === canaryBuild.id);
        expect(found?.status ?? 'queued', found?.error ?? '').not.toMatch(/failed|rolled_back/);
        return found?.canary_percent === 20 && found;
      },
      60_000,
    );
    expect(canary).toMatchObject({ strategy: 'canary', status: 'verifying' });

    const visitors = Array.from({ length: 200 }, () => randomUUID());
    const answers = [];
    for (let i = 0; i < visitors.length; i += 20) {
      const batch = visitors.slice(i, i + 20);
      answers.push(...(await Promise.all(batch.map((visitor) => visit(host, visitor)))));
    }
    // The samples below are the 20% step's only if the step had not moved on meanwhile.
    const during = (await site.deployments()).find((d) => d.id === canary.id);
    expect(during).toMatchObject({ status: 'verifying', canary_percent: 20 });
    let onCanary = 0;
    for (const [i, visitor] of visitors.entries()) {
      const answer = answers[i]!;
      expect(answer.status).toBe(200);
      const expected = (await servesCanary(visitor, canary.id, 20))
        ? site.page('v2')
        : site.page('v1');
      expect(answer.body, `visitor ${visitor}`).toBe(expected);
      if (answer.body === site.page('v2')) onCanary++;
    }
    // A fifth of 200 is 40; the bounds are about four standard deviations either side.
    expect(onCanary).toBeGreaterThan(15);
    expect(onCanary).toBeLessThan(65);
    for (const visitor of visitors.slice(0, 20)) {
      const first = await visit(host, visitor);
      expect((await visit(host, visitor)).body).toBe(first.body);
    }
    // A first-time visitor is given the cookie that keeps them on their side.
    const newcomer = await visit(host);
    expect(newcomer.setCookie.join(';')).toMatch(/sparki_visitor=[0-9a-f-]{36}/);

    // Once the share has served its time and stayed healthy, everyone gets the new version.
    const live = await site.deploymentEnded(canaryBuild.id, 'production', 'live', 150_000);
    expect(live.canary_percent).toBe(100);
    for (const visitor of visitors.slice(0, 20)) {
      expect((await visit(host, visitor)).body).toBe(site.page('v2'));
    }
  }, 300_000);

  it('a redelivered push deploys nothing twice', async () => {
    const site = await newSite('redelivery');
    const deliveryId = randomUUID();
    const sha = git(site.repo, 'rev-parse', 'HEAD');
    const build = await site.pushBuild('main', sha, deliveryId);
    await site.deploymentEnded(build.id, 'production', 'live');
    const before = await site.deployments();
    expect(before).toHaveLength(1);

    const again = await site.deliver(deliveryId, sha, 'main');
    expect(again.body).toMatchObject({ status: 'duplicate' });
    expect((await site.projectBuilds()).map((b) => b.id)).toEqual([build.id]);
    expect((await site.deployments()).map((d) => [d.id, d.status])).toEqual(
      before.map((d) => [d.id, d.status]),
    );
  }, 120_000);

  it('a build.succeeded message delivered again deploys nothing twice', async () => {
    const site = await newSite('requeue');
    const { build } = await site.liveOnMain();
    const before = await site.deployments();
    expect(before).toHaveLength(1);
    // As if publishing it had failed after the queue took it: the outbox row is unsent again and
    // older than the relay's grace period, so the cron relay sends the same message once more.
    const requeued = await withDb(e2e.stack.postgresUrl, async (db) => {
      const { rows } = await db.execute<{ id: string }>(
        sql`update outbox set published_at = null, created_at = now() - interval '1 minute'
          where topic = 'sparki-deployments' and payload->>'type' = 'build.succeeded'
            and payload->>'build_id' = ${build.id} returning id`,
      );
      return rows;
    });
    expect(requeued).toHaveLength(1);
    const batches = () =>
      e2e.stack
        .output()
        .replace(ANSI, '')
        .match(/QUEUE sparki-deployments \d+\/\d+/g)?.length ?? 0;
    const consumed = batches();
    // wrangler dev fires no crons by itself; this is its documented way to run one.
    const cron = await fetch(`${e2e.base}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);
    expect(cron.ok, await cron.text()).toBe(true);
    await e2e.waitFor(
      'the relay to send it',
      () =>
        withDb(e2e.stack.postgresUrl, async (db) => {
          const { rows } = await db.execute<{ published_at: string | null }>(
            sql`select published_at from outbox where id = ${requeued[0]!.id}`,
          );
          return rows[0]?.published_at !== null;
        }),
      30_000,
    );
    await e2e.waitFor('the engine to take it', async () => batches() > consumed, 30_000);
    expect((await site.deployments()).map((d) => [d.id, d.status])).toEqual(
      before.map((d) => [d.id, d.status]),
    );
  }, 150_000);
});
