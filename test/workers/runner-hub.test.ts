import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS } from '../../core/runner-protocol';
import { builds, workspaces } from '../../db/schema';
import type { RunnerHub } from '../../durable-objects/runner-hub';
import { buildSession, runnerHub } from '../../platform/durable-objects';
import { authed } from './auth-helpers';
import { eventually, fetchWorker, testDb } from './harness';
import {
  onlineRunner,
  ownerWithWorkspace,
  planBuild,
  queuedBuild,
  registerRunner,
} from './runner-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function buildRow(buildId: string) {
  const [row] = await db.select().from(builds).where(eq(builds.id, buildId));
  return row!;
}

function spec(buildId: string, jobToken: string) {
  return fetchWorker(`/api/jobs/${buildId}`, authed(jobToken));
}

/** Moves the hub's clock for one lease: sets a column of it to the past. */
async function backdate(workspaceId: string, column: 'expires_at' | 'deadline') {
  await runInDurableObject(runnerHub(env, workspaceId), async (_hub: RunnerHub, state) => {
    state.storage.sql.exec(`UPDATE leases SET ${column} = 0`);
  });
}

async function setup(runner: Record<string, unknown> = {}) {
  const { owner, workspace } = await ownerWithWorkspace();
  const registered = await registerRunner(owner.access_token, workspace.id, runner);
  return { owner, workspace, ...registered };
}

describe('RunnerHub: offers and leases', () => {
  it('offers a planned build to a connected runner and records the lease in Postgres', async () => {
    const { workspace, runner_id, runner_token } = await setup();
    const socket = await onlineRunner(runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);

    const job = await socket.next('job');
    expect(job).toMatchObject({ build_id: build.id, attempt: 1 });
    const row = await buildRow(build.id);
    expect(row.status).toBe('running');
    expect(row.runnerId).toBe(runner_id);
    expect(row.attempt).toBe(1);
    expect(row.startedAt).toBeInstanceOf(Date);
    expect((await spec(build.id, job.job_token)).status).toBe(200);

    const leases = await runnerHub(env, workspace.id).leases();
    expect(leases).toEqual([
      expect.objectContaining({ buildId: build.id, runnerId: runner_id, attempt: 1 }),
    ]);
    expect(await runnerHub(env, workspace.id).pending()).toEqual([]);
  });

  it('offers a build that waited to the runner that connects later', async () => {
    const { workspace, runner_token } = await setup();
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    expect((await buildRow(build.id)).status).toBe('planned');
    const socket = await onlineRunner(runner_token);
    expect((await socket.next('job')).build_id).toBe(build.id);
  });

  it('offers only to a runner with every label the job asks for', async () => {
    const { owner, workspace, runner_token } = await setup({ labels: ['linux'] });
    const plain = await onlineRunner(runner_token);
    const { build, project } = await queuedBuild(db, workspace.id);
    await runnerHub(env, workspace.id).offer({
      buildId: build.id,
      projectId: project.id,
      labels: ['gpu'],
    });
    await plain.expectNothingSent();
    expect((await runnerHub(env, workspace.id).pending()).map((queued) => queued.buildId)).toEqual([
      build.id,
    ]);

    const gpu = await registerRunner(owner.access_token, workspace.id, {
      labels: ['linux', 'gpu'],
    });
    const gpuSocket = await onlineRunner(gpu.runner_token);
    expect((await gpuSocket.next('job')).build_id).toBe(build.id);
  });

  it('keeps to the workspace plan’s concurrency limit and to runner capacity', async () => {
    const { workspace, runner_token } = await setup({ capacity: 2 });
    const socket = await onlineRunner(runner_token);
    const first = await queuedBuild(db, workspace.id);
    const second = await queuedBuild(db, workspace.id);
    await planBuild(first.build.id);
    await planBuild(second.build.id);
    // The free plan runs one build at a time, though the runner has room for two.
    const job = await socket.next('job');
    expect(job.build_id).toBe(first.build.id);
    await socket.expectNothingSent();
    expect((await runnerHub(env, workspace.id).pending()).map((queued) => queued.buildId)).toEqual([
      second.build.id,
    ]);

    const completed = await fetchWorker(
      `/api/jobs/${first.build.id}/complete`,
      authed(job.job_token, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'failed', error: 'tests failed' }),
      }),
    );
    expect(completed.status).toBe(200);
    expect((await socket.next('job')).build_id).toBe(second.build.id);

    await db.update(workspaces).set({ plan: 'pro' }).where(eq(workspaces.id, workspace.id));
    const third = await queuedBuild(db, workspace.id);
    await planBuild(third.build.id);
    expect((await socket.next('job')).build_id).toBe(third.build.id);
    const fourth = await queuedBuild(db, workspace.id);
    await planBuild(fourth.build.id);
    // The runner's capacity (2) is reached even though the pro plan would admit a third.
    await socket.expectNothingSent();
    expect((await runnerHub(env, workspace.id).pending()).map((queued) => queued.buildId)).toEqual([
      fourth.build.id,
    ]);
  });
});

describe('RunnerHub: losing a lease', () => {
  it('re-offers the job of a runner whose socket closed to another runner, and refuses the old token', async () => {
    const { owner, workspace, runner_token } = await setup();
    const first = await onlineRunner(runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    const lost = await first.next('job');

    const other = await registerRunner(owner.access_token, workspace.id);
    const second = await onlineRunner(other.runner_token);
    first.ws.close(1000, 'bye');

    const job = await second.next('job');
    expect(job).toMatchObject({ build_id: build.id, attempt: 2 });
    const row = await buildRow(build.id);
    expect(row).toMatchObject({ status: 'running', runnerId: other.runner_id, attempt: 2 });
    expect((await spec(build.id, lost.job_token)).status).toBe(401);
    expect((await spec(build.id, job.job_token)).status).toBe(200);
  });

  it('keeps a lease that heartbeats and loses one that does not', async () => {
    const { workspace, runner_token } = await setup();
    const socket = await onlineRunner(runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    const job = await socket.next('job');
    const hub = runnerHub(env, workspace.id);
    const [before] = await hub.leases();

    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.send({ type: 'heartbeat', running: [build.id] });
    const [after] = await eventually(
      () => hub.leases(),
      ([lease]) => (lease?.expiresAt ?? 0) > before!.expiresAt,
    );
    expect(after!.expiresAt).toBeGreaterThan(before!.expiresAt);
    expect(await runDurableObjectAlarm(hub)).toBe(true);
    expect((await buildRow(build.id)).status).toBe('running');
    expect((await spec(build.id, job.job_token)).status).toBe(200);

    // No heartbeat until the lease ran out: the alarm takes the job back.
    await backdate(workspace.id, 'expires_at');
    expect(await runDurableObjectAlarm(hub)).toBe(true);
    expect((await spec(build.id, job.job_token)).status).toBe(401);
    // The runner is still connected and idle, so it is offered the job again as attempt 2.
    expect(await socket.next('job')).toMatchObject({ build_id: build.id, attempt: 2 });
  });

  it(`fails the build with the reasons after ${MAX_ATTEMPTS} lost leases`, async () => {
    const { workspace, runner_token } = await setup();
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    const first = await onlineRunner(runner_token);
    expect(await first.next('job')).toMatchObject({ build_id: build.id, attempt: 1 });
    first.ws.close(1000, 'bye');
    await eventually(
      () => buildRow(build.id),
      (row) => row.status === 'planned',
    );

    const second = await onlineRunner(runner_token);
    expect(await second.next('job')).toMatchObject({ build_id: build.id, attempt: 2 });
    await backdate(workspace.id, 'expires_at');
    await runDurableObjectAlarm(runnerHub(env, workspace.id));
    expect(await second.next('job')).toMatchObject({ build_id: build.id, attempt: 3 });
    second.ws.close(1000, 'bye');

    // The status is written first, the archived log's key once the log is closed.
    const row = await eventually(
      () => buildRow(build.id),
      (value) => value.status === 'failed' && value.logKey !== null,
    );
    expect(row.status).toBe('failed');
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(row.error).toMatch(/lost the job 3 times/);
    expect(row.error).toMatch(/disconnected/);
    expect(row.error).toMatch(/heartbeat timeout/);
    // Watchers saw each loss in the log, which is now closed and archived.
    expect(row.logKey).toBe(`builds/${build.id}/log.ndjson`);
    const notes = (await buildSession(env, build.id).read()).map((line) => line.text);
    expect(notes.filter((text) => text.includes('offering it again'))).toHaveLength(2);
    expect(notes.at(-1)).toBe(row.error);
    const hub = runnerHub(env, workspace.id);
    expect(await hub.leases()).toEqual([]);
    expect(await hub.pending()).toEqual([]);
  });

  it('ends a build whose cancel was requested instead of offering it again', async () => {
    const { workspace, runner_token } = await setup();
    const socket = await onlineRunner(runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    await socket.next('job');
    await db.update(builds).set({ cancelRequestedAt: new Date() }).where(eq(builds.id, build.id));
    socket.ws.close(1000, 'bye');
    const row = await eventually(
      () => buildRow(build.id),
      (value) => value.status !== 'running',
    );
    expect(row.status).toBe('canceled');
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(await runnerHub(env, workspace.id).pending()).toEqual([]);
  });

  it('re-queues a released job without counting it as a loss', async () => {
    const { workspace, runner_token } = await setup();
    const socket = await onlineRunner(runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    const job = await socket.next('job');
    socket.send({ type: 'release', build_id: build.id, attempt: job.attempt, reason: 'draining' });
    let current = await socket.next('job');
    expect(current.attempt).toBe(2);
    // Two losses after the release: still within MAX_ATTEMPTS, so the build is offered again.
    for (let loss = 1; loss < MAX_ATTEMPTS; loss++) {
      await backdate(workspace.id, 'expires_at');
      await runDurableObjectAlarm(runnerHub(env, workspace.id));
      current = await socket.next('job');
    }
    expect(current.attempt).toBe(MAX_ATTEMPTS + 1);
    expect((await buildRow(build.id)).status).toBe('running');
  });

  it('times a build out when it outlives its time limit, and tells the runner', async () => {
    const { workspace, runner_token } = await setup();
    const socket = await onlineRunner(runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    await socket.next('job');
    await backdate(workspace.id, 'deadline');
    await runDurableObjectAlarm(runnerHub(env, workspace.id));
    expect(await socket.next('cancel')).toMatchObject({ build_id: build.id });
    const row = await buildRow(build.id);
    expect(row.status).toBe('timed_out');
    expect(row.error).toMatch(/time limit/);
  });

  it('sends cancel to the runner holding the lease, and withdraws a waiting job', async () => {
    const { workspace, runner_token } = await setup();
    const socket = await onlineRunner(runner_token);
    const running = await queuedBuild(db, workspace.id);
    await planBuild(running.build.id);
    await socket.next('job');
    const hub = runnerHub(env, workspace.id);
    expect(await hub.cancel(running.build.id, 'canceled by a user')).toEqual({
      state: 'signalled',
    });
    expect(await socket.next('cancel')).toEqual({
      type: 'cancel',
      build_id: running.build.id,
      reason: 'canceled by a user',
    });

    const waiting = await queuedBuild(db, workspace.id);
    await planBuild(waiting.build.id);
    expect(await hub.cancel(waiting.build.id, 'superseded')).toEqual({ state: 'withdrawn' });
    expect(await hub.pending()).toEqual([]);
    expect(await hub.cancel(crypto.randomUUID(), 'nothing')).toEqual({ state: 'unknown' });
  });

  it('lets a runner reconnect without losing the builds it still runs', async () => {
    const { workspace, runner_token } = await setup();
    const before = await onlineRunner(runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    const job = await before.next('job');

    const after = await onlineRunner(runner_token, [build.id]);
    expect((await before.closedWith())?.code).toBe(4000);
    await after.expectNothingSent();
    const row = await buildRow(build.id);
    expect(row).toMatchObject({ status: 'running', attempt: 1 });
    expect((await spec(build.id, job.job_token)).status).toBe(200);
    expect(await runnerHub(env, workspace.id).leases()).toHaveLength(1);
  });

  it('tells a runner to stop a build it reports but holds no lease for', async () => {
    const { workspace, runner_token } = await setup();
    const socket = await onlineRunner(runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    await socket.next('job');
    socket.send({ type: 'heartbeat', running: [build.id, crypto.randomUUID()] });
    const cancel = await socket.next('cancel');
    expect(cancel.build_id).not.toBe(build.id);
  });
});
