import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeliveryBody,
  type NotificationReceiver,
  startNotificationReceiver,
} from '../notification-receiver';
import { type Build, type E2E, startE2E } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * Notifications with nothing faked: the dev stack, a real runner building real commits, the
 * deploy engine, and local HTTP receivers on 127.0.0.1: a signed-webhook endpoint verifying each
 * delivery's HMAC (failing the first one with a 500 to prove the queue retries it), and Slack-
 * and Discord-like incoming webhooks.
 */
const HEALTHY = '<p data-health="ok"></p>';
const page = (version: string, healthy = true) => `<h1>${version}</h1>${healthy ? HEALTHY : ''}\n`;
const BUILD_JS = `
const fs = require('node:fs');
fs.mkdirSync('dist', { recursive: true });
fs.copyFileSync('page.html', 'dist/index.html');
`;
const files = {
  'package.json': JSON.stringify({
    name: 'notify',
    private: true,
    scripts: { build: 'node build.js' },
  }),
  'build.js': BUILD_JS,
  'page.html': page('v1'),
};

interface Deployment {
  id: string;
  build_id: string;
  stage: string;
  status: string;
  url: string | null;
}

describe('notifications, end to end', () => {
  let e2e: E2E;
  let receiver: NotificationReceiver;
  let environmentId: string;
  let hookId: string;
  const targets = () => `/api/projects/${e2e.project.id}/notification-targets`;

  const deployments = async () =>
    (
      await e2e.api<{ deployments: Deployment[] }>(
        'GET',
        `/api/projects/${e2e.project.id}/deployments?limit=100`,
      )
    ).deployments;

  async function push(changes: Record<string, string>, message: string) {
    const sha = await e2e.commit(changes, message);
    const delivered = await e2e.deliver(randomUUID(), sha);
    expect(delivered.body.status).toBe('queued');
    return delivered.body.build_id!;
  }

  /** The production deployment of `buildId` once it ended `status`. */
  const productionEnded = (buildId: string, status: string) =>
    e2e.waitFor(
      `the production deployment of ${buildId} to be ${status}`,
      async () =>
        (await deployments()).find(
          (d) => d.build_id === buildId && d.stage === 'production' && d.status === status,
        ),
      90_000,
    );

  /** What `path` received of `type`, once it has `count` of them. */
  const received = (path: string, type: string, count = 1) =>
    e2e.waitFor(
      `${count} ${type} at ${path}`,
      async () => {
        const found = receiver.at(path).filter((entry) => {
          const json = entry.json as { type?: string; text?: string; embeds?: { title: string }[] };
          return (json.type ?? json.text ?? json.embeds?.[0]?.title ?? '').includes(type);
        });
        return found.length >= count && found;
      },
      90_000,
    );

  beforeAll(async () => {
    receiver = await startNotificationReceiver();
    // A short notice period, so the runner killed at the end is announced within the test.
    e2e = await startE2E(files, { RUNNER_OFFLINE_NOTICE_SECONDS: '3' });
    const runner = await e2e.registerRunner('runner-notify');
    e2e.startRunner(runner.config);
    const { environments } = await e2e.api<{ environments: { id: string; kind: string }[] }>(
      'GET',
      `/api/projects/${e2e.project.id}/environments`,
    );
    environmentId = environments.find((env) => env.kind === 'production')!.id;
    await e2e.api('PATCH', `/api/environments/${environmentId}/deploy-settings`, {
      deploy_config: { health_check: { body_contains: HEALTHY, retries: 0, interval_ms: 0 } },
    });

    const hook = await e2e.api<{ target: { id: string }; secret: string }>('POST', targets(), {
      kind: 'webhook',
      name: 'ops',
      url: receiver.url('/hook'),
      events: ['build.failed', 'deployment.live', 'deployment.rolled_back', 'runner.offline'],
    });
    hookId = hook.target.id;
    receiver.verifyWith('/hook', hook.secret);
    // The first delivery to the webhook fails: the queue must try it again.
    receiver.answer('/hook', [500, 200]);
    await e2e.api('POST', targets(), {
      kind: 'slack',
      name: '#builds',
      url: receiver.url('/slack'),
      events: ['build.failed', 'deployment.live'],
    });
    await e2e.api('POST', targets(), {
      kind: 'discord',
      name: 'ops-discord',
      url: receiver.url('/discord'),
      events: ['deployment.rolled_back', 'runner.offline'],
    });
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (e2e) await e2e.stop();
    await receiver?.close();
  });

  it('a failed build reaches the webhook signed, after a retry, and Slack', async () => {
    const buildId = await push({ 'build.js': 'process.exit(3)' }, 'broken');
    await e2e.waitFor(
      `build ${buildId} to fail`,
      async () => (await e2e.api<Build>('GET', `/api/builds/${buildId}`)).status === 'failed',
      90_000,
    );
    const hooks = await received('/hook', 'build.failed', 2);
    expect(hooks.map((entry) => [entry.verified, entry.status])).toEqual([
      [true, 500],
      [true, 200],
    ]);
    // Both attempts are one delivery of one event.
    expect(new Set(hooks.map((entry) => entry.headers['sparki-delivery'])).size).toBe(1);
    expect(hooks[1]!.json).toMatchObject({
      id: `build.failed:${buildId}:1`,
      type: 'build.failed',
      project: { id: e2e.project.id, slug: 'e2e' },
      build: { id: buildId, status: 'failed', branch: 'main' },
    });
    const [slack] = await received('/slack', 'failed');
    expect(slack!.json).toMatchObject({
      text: expect.stringMatching(/^Build #\d+ of e2e failed$/),
      blocks: [{ type: 'section' }, { type: 'context' }],
    });

    const { deliveries } = await e2e.api<{ deliveries: DeliveryBody[] }>(
      'GET',
      `${targets()}/${hookId}/deliveries`,
    );
    expect(deliveries).toMatchObject([
      { event_type: 'build.failed', status: 'succeeded', attempts: 2, response_status: 200 },
    ]);

    // Redelivered by hand: the same event again, as a delivery of its own.
    const again = await e2e.api<DeliveryBody>(
      'POST',
      `${targets()}/${hookId}/deliveries/${deliveries[0]!.id}/redeliver`,
    );
    const redelivered = await received('/hook', 'build.failed', 3);
    expect(redelivered[2]).toMatchObject({ verified: true, status: 200 });
    expect(redelivered[2]!.headers['sparki-delivery']).toBe(again.id);
    expect((redelivered[2]!.json as { id: string }).id).toBe(`build.failed:${buildId}:1`);
  }, 240_000);

  it('a deployment going live, a manual rollback and an automatic one are each announced', async () => {
    const v2 = await push({ 'build.js': BUILD_JS, 'page.html': page('v2') }, 'v2');
    const live2 = await productionEnded(v2, 'live');
    const [liveHook] = await received('/hook', 'deployment.live');
    expect(liveHook!.json).toMatchObject({
      type: 'deployment.live',
      deployment: { id: live2.id, stage: 'production', status: 'live', url: live2.url },
    });
    const [liveSlack] = await received('/slack', 'is live in production');
    expect(liveSlack!.json).toMatchObject({ text: 'e2e is live in production' });

    const v3 = await push({ 'page.html': page('v3') }, 'v3');
    const live3 = await productionEnded(v3, 'live');
    await received('/hook', 'deployment.live', 2);

    await e2e.api('POST', `/api/environments/${environmentId}/rollback`, {});
    const [manual] = await received('/hook', 'deployment.rolled_back');
    expect(manual!.verified).toBe(true);
    expect(manual!.json).toMatchObject({
      automatic: false,
      deployment: { id: live3.id, status: 'rolled_back' },
      restored: { id: live2.id, status: 'live' },
    });
    const [discord] = await received('/discord', 'rolled back');
    expect(discord!.json).toMatchObject({
      content: 'Production of e2e was rolled back',
      embeds: [{ title: 'Production of e2e was rolled back' }],
    });

    // An unhealthy version fails its health check and the engine puts v2 back on its own.
    const v4 = await push({ 'page.html': page('v4', false) }, 'v4 unhealthy');
    const failed = await productionEnded(v4, 'rolled_back');
    const rollbacks = await received('/hook', 'deployment.rolled_back', 2);
    expect(rollbacks[1]!.json).toMatchObject({
      id: `deployment.rolled_back:${failed.id}`,
      automatic: true,
      deployment: {
        id: failed.id,
        status: 'rolled_back',
        error: expect.stringContaining('Health check'),
      },
      restored: { id: live2.id },
    });
    await received('/discord', 'rolled back automatically');
    // Slack was not subscribed to rollbacks.
    expect(receiver.at('/slack').filter((e) => String(e.json.text).includes('rolled'))).toEqual([]);
  }, 480_000);

  it('a runner going offline is announced to the projects of its workspace', async () => {
    e2e.runners[0]!.kill('SIGKILL');
    const [offline] = await received('/hook', 'runner.offline');
    expect(offline!.json).toMatchObject({
      type: 'runner.offline',
      runner: { name: 'runner-notify' },
      project: { id: e2e.project.id },
    });
    const [discord] = await received('/discord', 'went offline');
    expect(discord!.json).toMatchObject({ content: 'Runner “runner-notify” went offline' });
  }, 120_000);
});
