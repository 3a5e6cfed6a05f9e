import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';

describe('BuildSession', () => {
  it('round-trips log lines with increasing sequence numbers', async () => {
    const session = env.BUILD_SESSION.get(env.BUILD_SESSION.idFromName(crypto.randomUUID()));
    const first = await session.append([
      { stream: 'stdout', text: 'npm install', stepId: 'install', ts: 1 },
      { stream: 'stderr', text: 'warn deprecated', stepId: 'install', ts: 2 },
    ]);
    const second = await session.append([{ stream: 'stdout', text: 'done', ts: 3 }]);
    expect(first.lastSeq).toBe(2);
    expect(second.lastSeq).toBe(3);
    expect(await session.read()).toEqual([
      { seq: 1, stream: 'stdout', text: 'npm install', stepId: 'install', ts: 1 },
      { seq: 2, stream: 'stderr', text: 'warn deprecated', stepId: 'install', ts: 2 },
      { seq: 3, stream: 'stdout', text: 'done', ts: 3 },
    ]);
    expect((await session.read(2)).map((line) => line.seq)).toEqual([3]);
  });

  it('rejects a malformed line without storing any of the batch', async () => {
    const session = env.BUILD_SESSION.get(env.BUILD_SESSION.idFromName(crypto.randomUUID()));
    const failure = await session
      .append([
        { stream: 'stdout', text: 'ok', ts: 1 },
        { stream: 'nope' as 'stdout', text: 'bad', ts: 2 },
      ])
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(Error);
    expect(await session.read()).toEqual([]);
  });
});

describe('RunnerHub', () => {
  it('keeps jobs in offer order and ignores a repeated offer', async () => {
    const hub = env.RUNNER_HUB.get(env.RUNNER_HUB.idFromName(crypto.randomUUID()));
    const projectId = crypto.randomUUID();
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    expect(await hub.offer({ buildId: a, projectId })).toEqual({ queued: true, position: 1 });
    expect(await hub.offer({ buildId: b, projectId, labels: ['linux'] })).toEqual({
      queued: true,
      position: 2,
    });
    expect(await hub.offer({ buildId: a, projectId })).toEqual({ queued: false, position: 1 });
    const jobs = await hub.pending();
    expect(jobs.map((job) => [job.buildId, job.labels])).toEqual([
      [a, []],
      [b, ['linux']],
    ]);
  });
});
