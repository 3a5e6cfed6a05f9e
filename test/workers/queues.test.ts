import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { outbox } from '../../db/schema';
import { RELAY_GRACE_MS } from '../../domain/outbox';
import { runnerHub } from '../../platform/durable-objects';
import worker from '../../workers/index';
import { buildStatus, eventually, runScheduled, seedQueuedBuild, testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function deliver(body: unknown, attempts = 1, overrides: Partial<Env> = {}) {
  const batch = createMessageBatch('sparki-builds', [
    { id: `msg-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides }, ctx);
  return getQueueResult(batch, ctx);
}

describe('sparki-builds consumer', () => {
  it('plans a queued build and offers it to the workspace RunnerHub', async () => {
    const { workspace, build } = await seedQueuedBuild(db);
    const result = await deliver({ type: 'build.requested', buildId: build.id });
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    expect(await buildStatus(db, build.id)).toBe('planned');
    const jobs = await runnerHub(env, workspace.id).pending();
    expect(jobs.map((job) => job.buildId)).toEqual([build.id]);
  });

  it('does not duplicate the job when the message is delivered twice', async () => {
    const { workspace, build } = await seedQueuedBuild(db);
    await deliver({ type: 'build.requested', buildId: build.id });
    const again = await deliver({ type: 'build.requested', buildId: build.id }, 2);
    expect(again.explicitAcks).toHaveLength(1);
    expect(await runnerHub(env, workspace.id).pending()).toHaveLength(1);
  });

  it('acks a malformed message instead of retrying it forever', async () => {
    const result = await deliver({ type: 'build.requested', buildId: 'not-a-uuid' });
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
  });

  it('retries with backoff when Postgres is unreachable', async () => {
    const result = await deliver({ type: 'build.requested', buildId: crypto.randomUUID() }, 3, {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x',
    });
    expect(result.explicitAcks).toEqual([]);
    // The test harness records that a retry happened, not its delay (see core/backoff.test.ts).
    expect(result.retryMessages).toEqual([{ msgId: expect.stringMatching(/^msg-/) }]);
  });

  it('receives a message sent through the real queue binding', async () => {
    const { build } = await seedQueuedBuild(db);
    await env.BUILDS_QUEUE.send({ type: 'build.requested', buildId: build.id });
    const status = await eventually(
      () => buildStatus(db, build.id),
      (value) => value === 'planned',
    );
    expect(status).toBe('planned');
  });
});

describe('outbox relay (cron)', () => {
  it('publishes rows left unsent and marks them published', async () => {
    const { build } = await seedQueuedBuild(db);
    const [row] = await db
      .insert(outbox)
      .values({
        topic: 'sparki-builds',
        payload: { type: 'build.requested', buildId: build.id },
        createdAt: new Date(Date.now() - RELAY_GRACE_MS - 1_000),
      })
      .returning();
    await runScheduled();
    const [after] = await db.select().from(outbox).where(eq(outbox.id, row!.id));
    expect(after?.publishedAt).toBeInstanceOf(Date);
    const status = await eventually(
      () => buildStatus(db, build.id),
      (value) => value === 'planned',
    );
    expect(status).toBe('planned');
  });

  it('leaves fresh rows to the commit-time publisher', async () => {
    const [row] = await db
      .insert(outbox)
      .values({
        topic: 'sparki-builds',
        payload: { type: 'build.requested', buildId: crypto.randomUUID() },
      })
      .returning();
    await runScheduled();
    const [after] = await db.select().from(outbox).where(eq(outbox.id, row!.id));
    expect(after?.publishedAt).toBeNull();
  });

  it('counts a failed publish and keeps the row for the next run', async () => {
    const [row] = await db
      .insert(outbox)
      .values({
        topic: 'no-such-queue',
        payload: {},
        createdAt: new Date(Date.now() - RELAY_GRACE_MS - 1_000),
      })
      .returning();
    await runScheduled();
    const [after] = await db.select().from(outbox).where(eq(outbox.id, row!.id));
    expect(after?.publishedAt).toBeNull();
    expect(after?.attempts).toBe(1);
    expect(after?.lastError).toContain('no-such-queue');
    await db.delete(outbox).where(eq(outbox.id, row!.id));
  });
});

describe('dead-letter queues', () => {
  it('keeps each dead message in R2 for inspection and acks it', async () => {
    const id = `dead-${crypto.randomUUID()}`;
    const body = { type: 'build.requested', buildId: crypto.randomUUID() };
    const batch = createMessageBatch('sparki-builds-dlq', [
      { id, timestamp: new Date('2026-11-23T10:00:00Z'), attempts: 1, body },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([id]);
    const stored = await env.LOGS.get(
      `dead-letters/sparki-builds/2026-11-23T10:00:00.000Z-${id}.json`,
    );
    expect(await stored?.json()).toMatchObject({ queue: 'sparki-builds', id, body });
  });
});
