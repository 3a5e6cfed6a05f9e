import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { notificationDeliveries, runners } from '../../db/schema';
import type { RunnerHub } from '../../durable-objects/runner-hub';
import { runnerHub } from '../../platform/durable-objects';
import { eventually, testDb } from './harness';
import { projectFixture, subscribeWebhook } from './project-fixtures';
import { onlineRunner, registerRunner } from './runner-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

/** A project subscribed to `runner.offline`, and a runner of its workspace. */
async function setup() {
  const { owner, workspace, project } = await projectFixture({ provider: 'none' });
  await subscribeWebhook(owner, project.id, ['runner.offline']);
  const runner = await registerRunner(owner.access_token, workspace.id);
  return { workspaceId: workspace.id, projectId: project.id, runner };
}

function offlineDeliveries(projectId: string) {
  return db
    .select()
    .from(notificationDeliveries)
    .where(
      and(
        eq(notificationDeliveries.projectId, projectId),
        eq(notificationDeliveries.eventType, 'runner.offline'),
      ),
    );
}

/** The hub's pending notices, as `[runner id, ms from offline to notify]`. */
function pendingNotices(workspaceId: string) {
  return runInDurableObject(runnerHub(env, workspaceId), (_hub: RunnerHub, state) =>
    state.storage.sql
      .exec<{ runner_id: string; offline_at: number; notify_at: number }>(
        'SELECT * FROM offline_notices',
      )
      .toArray()
      .map((row) => [row.runner_id, row.notify_at - row.offline_at]),
  );
}

/** Moves the hub's clock past every pending notice's period. */
function noticePeriodPassed(workspaceId: string) {
  return runInDurableObject(runnerHub(env, workspaceId), (_hub: RunnerHub, state) => {
    state.storage.sql.exec('UPDATE offline_notices SET notify_at = 0');
  });
}

async function runnerStatus(runnerId: string) {
  const [row] = await db.select().from(runners).where(eq(runners.id, runnerId));
  return row?.status;
}

describe('runner.offline waits for the notice period', () => {
  it('a runner back within the period notifies nobody; one that stays away notifies once', async () => {
    const { workspaceId, projectId, runner } = await setup();
    const hub = runnerHub(env, workspaceId);

    const first = await onlineRunner(runner.runner_token);
    first.ws.close(1000, 'restarting');
    // Listed offline at once, but only noted for a notice 60 s (the default) later.
    expect(
      await eventually(
        () => pendingNotices(workspaceId),
        (notices) => notices.length === 1,
      ),
    ).toEqual([[runner.runner_id, 60_000]]);
    expect(await runnerStatus(runner.runner_id)).toBe('offline');
    expect(await runDurableObjectAlarm(hub)).toBe(true);
    expect(await offlineDeliveries(projectId)).toEqual([]);

    // Back before the period ends (a restart, an upgrade): the notice is dropped.
    const second = await onlineRunner(runner.runner_token);
    expect(await pendingNotices(workspaceId)).toEqual([]);
    expect(await runnerStatus(runner.runner_id)).toBe('online');

    // Gone for good: once the period has passed, the workspace's projects hear of it, once.
    second.ws.close(1000, 'bye');
    await eventually(
      () => pendingNotices(workspaceId),
      (notices) => notices.length === 1,
    );
    await noticePeriodPassed(workspaceId);
    expect(await runDurableObjectAlarm(hub)).toBe(true);
    const delivered = await offlineDeliveries(projectId);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.payload).toMatchObject({
      type: 'runner.offline',
      runner: { id: runner.runner_id },
      project: { id: projectId },
    });
    expect(await pendingNotices(workspaceId)).toEqual([]);
  });
});
