import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { encryptSecret } from '../../core/secret-box';
import { builds, notificationDeliveries, notificationTargets } from '../../db/schema';
import { MAX_ATTEMPTS } from '../../domain/notifications/deliver';
import worker from '../../workers/index';
import type { DeliveryBody } from '../notification-receiver';
import { as } from './api-client';
import { eventually, testDb } from './harness';
import { RECEIVER_ORIGIN, receivers } from './notification-receivers';
import { projectFixture } from './project-fixtures';

const { db, pool } = testDb();
afterAll(() => pool.end());
afterEach(() => vi.restoreAllMocks());

async function consume(queue: string, body: unknown, overrides: Partial<Env> = {}) {
  const batch = createMessageBatch(queue, [
    { id: `msg-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides }, ctx);
  return getQueueResult(batch, ctx);
}

async function setup() {
  const fixture = await projectFixture({ provider: 'none' });
  const base = `/api/projects/${fixture.project.id}/notification-targets`;
  const addTarget = async (body: Record<string, unknown>) => {
    const response = await as(fixture.owner).post<{ target: { id: string }; secret: string }>(
      base,
      { name: 'target', ...body },
    );
    expect(response.status, response.text).toBe(201);
    return { id: response.body.target.id, secret: response.body.secret };
  };
  const deliveries = async (targetId: string) =>
    (await as(fixture.owner).get<{ deliveries: DeliveryBody[] }>(`${base}/${targetId}/deliveries`))
      .body.deliveries;
  return { ...fixture, base, addTarget, deliveries };
}

async function failedBuild(projectId: string) {
  const [build] = await db
    .insert(builds)
    .values({
      projectId,
      number: 7,
      branch: 'main',
      commitSha: 'c'.repeat(40),
      trigger: 'manual',
      attempt: 1,
      status: 'failed',
      error: 'npm run build exited with code 1',
      finishedAt: new Date(),
    })
    .returning();
  return build!;
}

const settled = (list: DeliveryBody[]) =>
  list.length > 0 && list.every((d) => d.status !== 'pending');

describe('notification delivery', () => {
  it('delivers a build failure once to each subscribed target, signed, retrying a failing receiver', async () => {
    const receiver = receivers();
    const { project, addTarget, deliveries } = await setup();
    const hook = await addTarget({
      kind: 'webhook',
      url: `${RECEIVER_ORIGIN}/hook`,
      events: ['build.failed'],
    });
    receiver.verifyWith('/hook', hook.secret);
    receiver.answer('/hook', [500, 200]);
    const slack = await addTarget({
      kind: 'slack',
      url: `${RECEIVER_ORIGIN}/slack`,
      events: ['build.failed', 'deployment.live'],
    });
    const discord = await addTarget({
      kind: 'discord',
      url: `${RECEIVER_ORIGIN}/discord`,
      events: ['deployment.live'],
    });
    const paused = await addTarget({
      kind: 'webhook',
      url: `${RECEIVER_ORIGIN}/paused`,
      events: ['build.failed'],
    });
    await db
      .update(notificationTargets)
      .set({ enabled: false })
      .where(eq(notificationTargets.id, paused.id));

    const build = await failedBuild(project.id);
    // Announced twice, as an at-least-once queue may: still one delivery per target.
    for (let i = 0; i < 2; i++) {
      const result = await consume('sparki-builds', { type: 'build.status', buildId: build.id });
      expect(result.explicitAcks).toHaveLength(1);
    }

    const hookLog = await eventually(() => deliveries(hook.id), settled, {
      attempts: 600,
      intervalMs: 100,
    });
    expect(hookLog).toEqual([
      expect.objectContaining({
        event_type: 'build.failed',
        event_id: `build.failed:${build.id}:1`,
        status: 'succeeded',
        attempts: 2,
        response_status: 200,
        response_excerpt: 'ok',
        error: null,
      }),
    ]);
    const hooks = receiver.at('/hook');
    expect(hooks).toHaveLength(2);
    expect(hooks.every((entry) => entry.verified)).toBe(true);
    expect(hooks.map((entry) => entry.headers.get('sparki-delivery'))).toEqual([
      hookLog[0]!.id,
      hookLog[0]!.id,
    ]);
    expect(hooks[0]!.headers.get('sparki-event')).toBe('build.failed');
    expect(hooks[0]!.json).toMatchObject({
      id: `build.failed:${build.id}:1`,
      type: 'build.failed',
      project: { id: project.id },
      build: {
        id: build.id,
        number: 7,
        status: 'failed',
        error: 'npm run build exited with code 1',
      },
    });

    const slackLog = await eventually(() => deliveries(slack.id), settled);
    expect(slackLog).toMatchObject([{ status: 'succeeded', attempts: 1 }]);
    const slackBody = receiver.at('/slack')[0]!;
    expect(slackBody.headers.get('sparki-signature')).toBeNull();
    expect(slackBody.json).toMatchObject({
      text: 'Build #7 of Site failed',
      blocks: [{ type: 'section' }, { type: 'context' }],
    });
    expect(await deliveries(discord.id)).toEqual([]);
    expect(await deliveries(paused.id)).toEqual([]);
    expect(receiver.at('/paused')).toEqual([]);
  });

  it('sends a test event and redelivers one, each as a delivery of its own', async () => {
    const receiver = receivers();
    const { base, addTarget, deliveries, owner } = await setup();
    const discord = await addTarget({
      kind: 'discord',
      url: `${RECEIVER_ORIGIN}/discord-test`,
      events: ['deployment.live'],
    });
    const tested = await as(owner).post<DeliveryBody>(`${base}/${discord.id}/test`);
    expect(tested.status, tested.text).toBe(202);
    expect(tested.body).toMatchObject({ event_type: 'test', status: 'pending', attempts: 0 });
    await eventually(() => deliveries(discord.id), settled);
    expect(receiver.at('/discord-test')[0]!.json).toMatchObject({
      content: 'Test notification for Site',
      embeds: [{ title: 'Test notification for Site' }],
      allowed_mentions: { parse: [] },
    });

    const again = await as(owner).post<DeliveryBody>(
      `${base}/${discord.id}/deliveries/${tested.body.id}/redeliver`,
    );
    expect(again.status, again.text).toBe(202);
    expect(again.body).toMatchObject({
      redelivery_of: tested.body.id,
      event_id: tested.body.event_id,
      status: 'pending',
    });
    const log = await eventually(
      () => deliveries(discord.id),
      (list) => list.length === 2 && settled(list),
    );
    expect(log.map((d) => [d.id, d.status])).toEqual([
      [again.body.id, 'succeeded'],
      [tested.body.id, 'succeeded'],
    ]);
    expect(receiver.at('/discord-test')).toHaveLength(2);
  });
});

describe('the sparki-notifications consumer', () => {
  async function pendingDelivery(url: string, attempts: number) {
    const { project } = await setup();
    const [target] = await db
      .insert(notificationTargets)
      .values({
        projectId: project.id,
        kind: 'slack',
        name: 'direct',
        urlEncrypted: await encryptSecret(env.ENCRYPTION_KEY, url),
        urlHint: 'https://receiver.test/…',
        events: ['build.failed'],
      })
      .returning();
    const [delivery] = await db
      .insert(notificationDeliveries)
      .values({
        targetId: target!.id,
        projectId: project.id,
        eventType: 'test',
        eventId: `test:${crypto.randomUUID()}`,
        payload: {
          id: 'test:x',
          type: 'test',
          created_at: new Date().toISOString(),
          project: { id: project.id, name: 'Site', slug: 'site', url: 'http://sparki.test' },
        },
        attempts,
      })
      .returning();
    return delivery!;
  }

  const row = async (id: string) =>
    (await db.select().from(notificationDeliveries).where(eq(notificationDeliveries.id, id)))[0]!;

  it('retries a failed attempt while attempts are left, and gives up on the last', async () => {
    const receiver = receivers();
    receiver.answer('/down', [503]);
    const early = await pendingDelivery(`${RECEIVER_ORIGIN}/down`, 0);
    const first = await consume('sparki-notifications', {
      type: 'notification.deliver',
      delivery_id: early.id,
    });
    expect(first.retryMessages).toHaveLength(1);
    expect(await row(early.id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      responseStatus: 503,
      responseExcerpt: 'receiver says 503',
      error: 'the receiver answered 503',
    });

    const last = await pendingDelivery(`${RECEIVER_ORIGIN}/down`, MAX_ATTEMPTS - 1);
    const final = await consume('sparki-notifications', {
      type: 'notification.deliver',
      delivery_id: last.id,
    });
    expect(final.retryMessages).toEqual([]);
    expect(final.explicitAcks).toHaveLength(1);
    expect(await row(last.id)).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS });

    // A settled delivery (a duplicate message) is not sent again.
    const count = receiver.at('/down').length;
    await consume('sparki-notifications', { type: 'notification.deliver', delivery_id: last.id });
    expect(receiver.at('/down')).toHaveLength(count);
  });

  it('records a receiver that cannot be reached, and refuses a private address in production', async () => {
    const unreachable = await pendingDelivery('http://127.0.0.1:1/nothing-listens', 0);
    const result = await consume('sparki-notifications', {
      type: 'notification.deliver',
      delivery_id: unreachable.id,
    });
    expect(result.retryMessages).toHaveLength(1);
    expect((await row(unreachable.id)).error).toMatch(/^the request failed: /);

    const receiver = receivers();
    const stored = await pendingDelivery('http://127.0.0.1:9/stored-in-development', 0);
    const refused = await consume(
      'sparki-notifications',
      { type: 'notification.deliver', delivery_id: stored.id },
      { APP_ENV: 'production', RESEND_API_KEY: 're_test', MAIL_FROM: 'S <s@sparki.test>' },
    );
    expect(refused.retryMessages).toEqual([]);
    expect(await row(stored.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: 'not sent: the URL must be an https:// URL',
    });
    expect(receiver.spy.mock.calls.some(([input]) => String(input).includes(':9/'))).toBe(false);
  });
});
