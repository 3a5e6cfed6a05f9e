import { env } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogLineInput } from '../../durable-objects/build-session-store';
import { buildSession } from '../../platform/durable-objects';
import { as } from './api-client';
import { testDb } from './harness';
import {
  onlineRunner,
  ownerWithWorkspace,
  planBuild,
  queuedBuild,
  registerRunner,
} from './runner-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

const lines = (...texts: string[]): LogLineInput[] =>
  texts.map((text, ts) => ({ stream: 'stdout', text, ts }));

describe('BuildSession: retried log batches', () => {
  it('appends a batch once per attempt and number, and answers a retry as the first time', async () => {
    const session = buildSession(env, crypto.randomUUID());
    const first = await session.append(lines('a', 'b'), { batch: { attempt: 1, seq: 1 } });
    expect(first).toEqual({ lastSeq: 2, finished: false });
    expect(await session.append(lines('c'), { batch: { attempt: 1, seq: 2 } })).toEqual({
      lastSeq: 3,
      finished: false,
    });
    // The answer to batch 1 was lost and the runner sent it again.
    expect(await session.append(lines('a', 'b'), { batch: { attempt: 1, seq: 1 } })).toEqual({
      lastSeq: 2,
      finished: false,
      duplicate: true,
    });
    // The next attempt numbers its batches from 1 again: they are new lines.
    expect(await session.append(lines('d'), { batch: { attempt: 2, seq: 1 } })).toEqual({
      lastSeq: 4,
      finished: false,
    });
    // Without a number (an older runner, the hub's own notes) a batch is always appended.
    await session.append(lines('e'));
    await session.append(lines('e'));
    expect((await session.read()).map((line) => `${line.seq}:${line.text}`)).toEqual([
      '1:a',
      '2:b',
      '3:c',
      '4:d',
      '5:e',
      '6:e',
    ]);
  });

  it('tells a finished log from a duplicate', async () => {
    const session = buildSession(env, crypto.randomUUID());
    await session.append(lines('a'), { batch: { attempt: 1, seq: 1 } });
    await session.finish('succeeded');
    expect(await session.append(lines('a'), { batch: { attempt: 1, seq: 1 } })).toEqual({
      lastSeq: 1,
      finished: true,
    });
  });
});

describe('job log route: batch_seq', () => {
  it('acknowledges a retried batch without appending it again, per attempt', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const runner = await registerRunner(owner.access_token, workspace.id);
    const socket = await onlineRunner(runner.runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    const job = await socket.next('job');
    const send = (body: unknown) => as(job.job_token).post(`/api/jobs/${build.id}/logs`, body);
    const batch = { batch_seq: 1, lines: [{ stream: 'stdout', text: 'npm ci', ts: 1 }] };
    const first = await send(batch);
    expect(first.body).toEqual({ last_seq: 1 });
    const retried = await send(batch);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ last_seq: 1, duplicate: true });
    const next = await send({
      batch_seq: 2,
      lines: [{ stream: 'stdout', text: 'npm run build', ts: 2 }],
    });
    expect(next.body).toEqual({ last_seq: 2 });
    expect((await send({ batch_seq: 0, lines: batch.lines })).status).toBe(400);
    expect((await buildSession(env, build.id).read()).map((line) => line.text)).toEqual([
      'npm ci',
      'npm run build',
    ]);
  });

  it('keeps a line whose output carries U+0000, shown as U+FFFD, rather than refusing the batch', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const runner = await registerRunner(owner.access_token, workspace.id);
    const socket = await onlineRunner(runner.runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    const job = await socket.next('job');
    const response = await as(job.job_token).post(`/api/jobs/${build.id}/logs`, {
      lines: [{ stream: 'stdout', text: 'a\u0000b', ts: 1 }],
    });
    expect(response.status, response.text).toBe(200);
    expect((await buildSession(env, build.id).read()).map((line) => line.text)).toEqual([
      'a\ufffdb',
    ]);
  });
});
