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

// The page is the commit's page.html; app.js never changes, so its blob is stored once.
const BUILD_JS = `
const fs = require('node:fs');
fs.mkdirSync('dist', { recursive: true });
fs.copyFileSync('page.html', 'dist/index.html');
fs.writeFileSync('dist/app.js', 'console.log("same in every version")');
`;
const HEALTHY = '<p data-health="ok"></p>';
const page = (version: string, healthy = true) => `<h1>${version}</h1>${healthy ? HEALTHY : ''}\n`;

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

  const deployments = async () =>
    (
      await e2e.api<{ deployments: Deployment[] }>(
        'GET',
        `/api/projects/${e2e.project.id}/deployments?limit=100`,
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
        expect(found, `deployment ${found.id}: ${found.error}`).toMatchObject({ status: expected });
        return found;
      },
      ms,
    );

  const productionHost = () => `${hostLabel}.localhost`;
  let hostLabel: string;
  let productionEnvironmentId: string;

  /** The content-addressed blobs the edge host has stored, read from the stack's own R2 state. */
  const blobCount = () =>
    withBindings(e2e.stateDir, async (env) => {
      let count = 0;
      let cursor: string | undefined;
      do {
        const page = await env.SITES.list({ prefix: 'blobs/', cursor });
        count += page.objects.length;
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      return count;
    });

  async function pushBuild(branch: string, sha: string, deliveryId = randomUUID()) {
    const delivered = await e2e.deliver(deliveryId, sha, branch);
    expect(delivered.body.status).toBe('queued');
    return (await e2e.buildSucceeded(delivered.body.build_id!)) as Build;
  }

  beforeAll(async () => {
    e2e = await startE2E({
      'package.json': JSON.stringify({
        name: 'e2e-deploy',
        private: true,
        scripts: { build: 'node build.js' },
      }),
      'build.js': BUILD_JS,
      'page.html': page('v1'),
    });
    port = Number(new URL(e2e.base).port);
    const runner = await e2e.registerRunner('runner-deploy');
    e2e.startRunner(runner.config);
    // Production's health check: the page must carry the health marker, one attempt.
    const { environments } = await e2e.api<{
      environments: { id: string; kind: string }[];
    }>('GET', `/api/projects/${e2e.project.id}/environments`);
    productionEnvironmentId = environments.find((env) => env.kind === 'production')!.id;
    await e2e.api('PATCH', `/api/environments/${productionEnvironmentId}/deploy-settings`, {
      deploy_config: { health_check: { body_contains: HEALTHY, retries: 0, interval_ms: 0 } },
    });
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (e2e) await e2e.stop();
  });

  let preview: Deployment;
  let promoted: Deployment;
  let firstBuild: Build;
  let blobsAfterFirst: number;

  it('a pushed branch gets a preview deployment serving it; promoting it puts it in production', async () => {
    git(e2e.repo, 'checkout', '--quiet', '-b', 'feature');
    const sha = git(e2e.repo, 'rev-parse', 'HEAD');
    firstBuild = await pushBuild('feature', sha);

    preview = await deploymentEnded(firstBuild.id, 'preview', 'live');
    expect(preview.url).toMatch(/^http:\/\/[a-z0-9-]+--[a-z0-9-]+\.localhost$/);
    const previewHost = new URL(preview.url!).hostname;
    hostLabel = previewHost.slice(previewHost.indexOf('--') + 2, -'.localhost'.length);
    expect(await visit(previewHost)).toMatchObject({ status: 200, body: page('v1') });
    // Nothing is in production yet.
    expect((await visit(productionHost())).status).toBe(404);
    blobsAfterFirst = await blobCount();
    expect(blobsAfterFirst).toBe(2);

    await e2e.api('POST', `/api/deployments/${preview.id}/promote`);
    promoted = await deploymentEnded(firstBuild.id, 'production', 'live');
    expect(promoted.environment_id).toBe(productionEnvironmentId);
    expect(await visit(productionHost())).toMatchObject({ status: 200, body: page('v1') });
    // Promotion reuses what the preview uploaded.
    expect(await blobCount()).toBe(blobsAfterFirst);
  }, 180_000);

  let brokenBuild: Build;

  it('a production deployment failing its health check is rolled back, production keeps serving, the rollback is audited', async () => {
    git(e2e.repo, 'checkout', '--quiet', 'main');
    const sha = await e2e.commit({ 'page.html': page('v2', false) }, 'v2 without the marker');
    brokenBuild = await pushBuild('main', sha);

    const broken = await deploymentEnded(brokenBuild.id, 'production', 'rolled_back');
    expect(broken.rolled_back_to_id).toBe(promoted.id);
    expect(broken.error).toContain('body does not contain');
    // Its own URL shows what was deployed; production never stopped serving v1.
    expect((await visit(new URL(broken.url!).hostname)).body).toBe(page('v2', false));
    expect(await visit(productionHost())).toMatchObject({ status: 200, body: page('v1') });
    // Only the changed page was a new blob.
    expect(await blobCount()).toBe(blobsAfterFirst + 1);

    const { entries } = await e2e.api<{
      entries: { action: string; target_id: string | null; metadata: Record<string, unknown> }[];
    }>('GET', `/api/workspaces/${e2e.workspaceId}/audit-log?action=deployment.rolled_back`);
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'deployment.rolled_back',
        target_id: broken.id,
        metadata: expect.objectContaining({ automatic: true, to: promoted.id }),
      }),
    ]);
  }, 180_000);

  const v3Delivery = randomUUID();
  let fixedBuild: Build;
  let fixed: Deployment;

  let rebuilt: Build;

  it('a good release goes live; redeploying its unchanged output uploads no blob', async () => {
    const sha = await e2e.commit({ 'page.html': page('v3') }, 'v3');
    fixedBuild = await pushBuild('main', sha, v3Delivery);
    fixed = await deploymentEnded(fixedBuild.id, 'production', 'live');
    expect(await visit(productionHost())).toMatchObject({ status: 200, body: page('v3') });
    const blobs = await blobCount();
    expect(blobs).toBe(blobsAfterFirst + 2);

    await e2e.api('POST', `/api/builds/${fixedBuild.id}/deploy`, { stage: 'preview' });
    const redeployed = await deploymentEnded(fixedBuild.id, 'preview', 'live');
    expect(redeployed.id).not.toBe(fixed.id);
    expect((await visit(new URL(redeployed.url!).hostname)).body).toBe(page('v3'));
    expect(await blobCount()).toBe(blobs);

    // Building the same commit again: the runner asks which blobs are missing and sends none.
    rebuilt = await e2e.api<Build>('POST', `/api/builds/${fixedBuild.id}/retry`);
    await e2e.buildSucceeded(rebuilt.id);
    const log = await (
      await fetch(`${e2e.base}/api/builds/${rebuilt.id}/logs.txt`, {
        headers: { authorization: `Bearer ${e2e.token()}` },
      })
    ).text();
    expect(log).toMatch(/\d+ files; 0 new \(0 B\) to upload/);
    await deploymentEnded(rebuilt.id, 'production', 'live');
    expect(await blobCount()).toBe(blobs);
  }, 240_000);

  let canaryBuild: Build;

  it('a canary at 20% serves the new version to about a fifth of visitors, each always the same', async () => {
    // Production switches to canary releases: 20%, then all, each share serving 20 s first.
    const settingsPath = `/api/environments/${productionEnvironmentId}/deploy-settings`;
    const settings = await e2e.api<{ deploy_config: Record<string, unknown> }>('GET', settingsPath);
    await e2e.api('PATCH', settingsPath, {
      strategy: 'canary',
      deploy_config: {
        ...settings.deploy_config,
        canary_steps: [20, 100],
        canary_interval_seconds: 20,
      },
    });
    const sha = await e2e.commit({ 'page.html': page('v4') }, 'v4');
    canaryBuild = await pushBuild('main', sha);
    const canary = await e2e.waitFor(
      'the canary to serve 20%',
      async () => {
        const found = (await deployments()).find((d) => d.build_id === canaryBuild.id);
        expect(found?.status ?? 'queued', found?.error ?? '').not.toMatch(/failed|rolled_back/);
        return found?.canary_percent === 20 && found;
      },
      60_000,
    );
    expect(canary).toMatchObject({ strategy: 'canary', status: 'verifying' });

    const visitors = Array.from({ length: 200 }, () => randomUUID());
    let onCanary = 0;
    for (const visitor of visitors) {
      const answer = await visit(productionHost(), visitor);
      expect(answer.status).toBe(200);
      const expected = (await servesCanary(visitor, canary.id, 20)) ? page('v4') : page('v3');
      expect(answer.body, `visitor ${visitor}`).toBe(expected);
      if (answer.body === page('v4')) onCanary++;
    }
    // A fifth of 200 is 40; the bounds are about four standard deviations either side.
    expect(onCanary).toBeGreaterThan(15);
    expect(onCanary).toBeLessThan(65);
    for (const visitor of visitors.slice(0, 20)) {
      const first = await visit(productionHost(), visitor);
      expect((await visit(productionHost(), visitor)).body).toBe(first.body);
    }
    // A first-time visitor is given the cookie that keeps them on their side.
    const newcomer = await visit(productionHost());
    expect(newcomer.setCookie.join(';')).toMatch(/sparki_visitor=[0-9a-f-]{36}/);

    // Once the share has served its time and stayed healthy, everyone gets the new version.
    const live = await deploymentEnded(canaryBuild.id, 'production', 'live', 150_000);
    expect(live.canary_percent).toBe(100);
    for (const visitor of visitors.slice(0, 20)) {
      expect((await visit(productionHost(), visitor)).body).toBe(page('v4'));
    }
  }, 300_000);

  it('a redelivered push deploys nothing twice', async () => {
    const before = await deployments();
    const again = await e2e.deliver(v3Delivery, git(e2e.repo, 'rev-parse', 'HEAD'), 'main');
    expect(again.body).toMatchObject({ status: 'duplicate' });
    const builds = await e2e.projectBuilds();
    expect(builds.map((b) => b.id).sort()).toEqual(
      [firstBuild.id, brokenBuild.id, fixedBuild.id, rebuilt.id, canaryBuild.id].sort(),
    );
    expect((await deployments()).map((d) => d.id).sort()).toEqual(before.map((d) => d.id).sort());
    // One deployment per build and environment: the automatic ones, the promotion, the redeploy.
    const pairs = before.map((d) => `${d.build_id}:${d.environment_id}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(before).toHaveLength(7);
  }, 60_000);

  it('a build.succeeded message delivered again deploys nothing twice', async () => {
    const before = await deployments();
    // As if publishing it had failed after the queue took it: the outbox row is unsent again and
    // older than the relay's grace period, so the cron relay sends the same message once more.
    const requeued = await withDb(e2e.stack.postgresUrl, async (db) => {
      const { rows } = await db.execute<{ id: string }>(
        sql`update outbox set published_at = null, created_at = now() - interval '1 minute'
          where topic = 'sparki-deployments' and payload->>'type' = 'build.succeeded'
            and payload->>'build_id' = ${fixedBuild.id} returning id`,
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
    expect((await deployments()).map((d) => [d.id, d.status])).toEqual(
      before.map((d) => [d.id, d.status]),
    );
  }, 90_000);
});
