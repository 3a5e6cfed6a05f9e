import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, git, startE2E } from './e2e-helpers';
import { promtoolCheck, type RunningPrometheus, startPrometheus } from './prometheus';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * Metrics with nothing faked: the dev stack (its own Redis), a real runner building real
 * commits, signed GitHub deliveries, the deploy engine, and Debian's Prometheus scraping
 * /metrics with the stack's token. Every expected value is what this file did.
 */
const HEALTHY = '<p data-health="ok"></p>';
const page = (version: string, healthy = true) => `<h1>${version}</h1>${healthy ? HEALTHY : ''}\n`;

interface Deployment {
  id: string;
  build_id: string;
  stage: string;
  status: string;
}

describe('metrics, end to end', () => {
  let e2e: E2E;
  let prometheus: RunningPrometheus;
  let promDir: string;
  let tokenFile: string;

  beforeAll(async () => {
    e2e = await startE2E({
      'package.json': JSON.stringify({
        name: 'metrics',
        private: true,
        scripts: { build: 'node build.js' },
      }),
      'build.js':
        "require('node:fs').mkdirSync('dist', { recursive: true }); require('node:fs').copyFileSync('page.html', 'dist/index.html');",
      'page.html': page('v1'),
    });
    tokenFile = join(e2e.stateDir, 'metrics-token');
    promDir = await mkdtemp(join(tmpdir(), 'sparki-prometheus-'));
    prometheus = await startPrometheus(promDir, new URL(e2e.base).host, tokenFile);
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (promDir) await rm(promDir, { recursive: true, force: true });
    if (e2e) await e2e.stop();
  });

  const deployments = async () =>
    (
      await e2e.api<{ deployments: Deployment[] }>(
        'GET',
        `/api/projects/${e2e.project.id}/deployments?limit=100`,
      )
    ).deployments;

  const deploymentEnded = (buildId: string, expected: string) =>
    e2e.waitFor(
      `build ${buildId}'s production deployment to end ${expected}`,
      async () => {
        const found = (await deployments()).find(
          (d) => d.build_id === buildId && d.stage === 'production',
        );
        return found?.status === expected && found;
      },
      90_000,
    );

  async function push(sha: string) {
    const delivered = await e2e.deliver(randomUUID(), sha);
    expect(delivered.body.status).toBe('queued');
    return e2e.buildSucceeded(delivered.body.build_id!);
  }

  /** Waits until Prometheus has scraped a value for `expr` equal to `expected`. */
  const scraped = (expr: string, expected: number) =>
    e2e.waitFor(
      `${expr} = ${expected} in Prometheus`,
      async () => (await prometheus.value(expr)) === expected,
      30_000,
    );

  it('builds, steps, deployments, rollbacks, webhooks, API latency and runner slots, as Prometheus scrapes them', async () => {
    const { environments } = await e2e.api<{ environments: { id: string; kind: string }[] }>(
      'GET',
      `/api/projects/${e2e.project.id}/environments`,
    );
    const production = environments.find((env) => env.kind === 'production')!.id;
    await e2e.api('PATCH', `/api/environments/${production}/deploy-settings`, {
      deploy_config: { health_check: { body_contains: HEALTHY, retries: 0, interval_ms: 0 } },
    });
    const runner = await e2e.registerRunner('metrics-runner');
    e2e.startRunner(runner.config);

    // v1 live, delivered twice (one duplicate); then a delivery whose signature is wrong.
    const v1sha = git(e2e.repo, 'rev-parse', 'HEAD');
    const deliveryId = randomUUID();
    const first = await e2e.deliver(deliveryId, v1sha);
    expect((await e2e.deliver(deliveryId, v1sha)).body.status).toBe('duplicate');
    const forged = await fetch(`${e2e.base}/webhooks/github/${e2e.project.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
      },
      body: '{}',
    });
    expect(forged.status).toBe(401);
    const v1 = await e2e.buildSucceeded(first.body.build_id!);
    await deploymentEnded(v1.id, 'live');

    // v2 live, then rolled back by hand to v1.
    const v2 = await push(await e2e.commit({ 'page.html': page('v2') }, 'v2'));
    await deploymentEnded(v2.id, 'live');
    await e2e.api('POST', `/api/environments/${production}/rollback`, {});

    // v3 fails its health check in production: rolled back on its own.
    const v3 = await push(await e2e.commit({ 'page.html': page('v3', false) }, 'v3 broken'));
    await deploymentEnded(v3.id, 'rolled_back');

    const steps = (
      await Promise.all(
        [v1, v2, v3].map((build) =>
          e2e.api<{ steps: { started_at: string | null; finished_at: string | null }[] }>(
            'GET',
            `/api/builds/${build.id}`,
          ),
        ),
      )
    ).flatMap((build) => build.steps.filter((step) => step.started_at && step.finished_at));
    expect(steps.length).toBeGreaterThanOrEqual(3);

    await scraped('sparki_deployment_rollbacks_total{kind="automatic",stage="production"}', 1);
    expect(await prometheus.value('up{job="sparki"}')).toBe(1);
    const expected: [string, number][] = [
      ['sparki_builds_finished_total{result="succeeded"}', 3],
      ['sum(sparki_builds_finished_total)', 3],
      ['sparki_build_queue_wait_seconds_count', 3],
      ['sparki_runner_pickup_seconds_count', 3],
      ['sum(sparki_build_step_duration_seconds_count)', steps.length],
      ['sparki_deployments_finished_total{result="live",stage="production"}', 2],
      ['sparki_deployments_finished_total{result="rolled_back",stage="production"}', 1],
      ['sparki_deployment_duration_seconds_count{result="live",stage="production"}', 2],
      ['sparki_deployment_rollbacks_total{kind="manual",stage="production"}', 1],
      ['sparki_webhook_deliveries_total{outcome="queued",provider="github"}', 3],
      ['sparki_webhook_deliveries_total{outcome="duplicate",provider="github"}', 1],
      ['sparki_webhook_deliveries_total{outcome="rejected",provider="github"}', 1],
      [
        'sum(sparki_http_request_duration_seconds_count{method="POST",route="/api/environments/:id/rollback"})',
        1,
      ],
      ['sparki_runners{status="online"}', 1],
      ['sparki_runner_slots{state="total"}', 1],
      ['sparki_runner_slots{state="busy"}', 0],
      ['sparki_runner_utilisation_ratio', 0],
    ];
    const actual = await Promise.all(expected.map(async ([expr]) => prometheus.value(expr)));
    expect(expected.map(([expr], i) => [expr, actual[i]])).toEqual(expected);

    // Histograms Prometheus can compute quantiles from: the API's own latency by route pattern.
    const p95 = await prometheus.value(
      'histogram_quantile(0.95, sum by (le) (sparki_http_request_duration_seconds_bucket{route="/api/projects/:id/deployments"}))',
    );
    expect(p95).toBeGreaterThan(0);
    expect(p95).toBeLessThanOrEqual(30);

    // The exposition passes Prometheus's own lint.
    const text = await (
      await fetch(`${e2e.base}/metrics`, {
        headers: { authorization: `Bearer ${(await readFile(tokenFile, 'utf8')).trim()}` },
      })
    ).text();
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
  }, 400_000);

  it('refuses a scrape without the token', async () => {
    const response = await fetch(`${e2e.base}/metrics`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'unauthorized',
    );
  });
});
