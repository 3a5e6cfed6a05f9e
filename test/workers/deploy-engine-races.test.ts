import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { canTransition, type DeploymentState } from '../../core/deploy/state-machine';
import type { Transaction } from '../../db/client';
import { deployments, environments, projects } from '../../db/schema';
import { transitionsOf } from '../../domain/deployments/queries';
import { failStaleDeployments } from '../../domain/deployments/sweeps';
import { noMetrics } from '../../platform/metrics';
import worker from '../../workers/index';
import { as } from './api-client';
import {
  CANARY_CONFIG,
  deploymentRow,
  drain,
  elapse,
  environmentRow,
  siteDeployer,
} from './deploy-helpers';
import { eventually, testDb } from './harness';
import { projectFixture } from './project-fixtures';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function seed() {
  const { owner, project } = await projectFixture({ provider: 'none' });
  const rows = await db
    .update(environments)
    .set({ deployConfig: CANARY_CONFIG })
    .where(eq(environments.projectId, project.id))
    .returning();
  const production = rows.find((row) => row.kind === 'production')!;
  const preview = rows.find((row) => row.kind === 'preview')!;
  const deploySite = siteDeployer(db, project.id, 'f'.repeat(40));
  const deploy = (
    html: string,
    strategy: 'all_at_once' | 'canary' = 'all_at_once',
    environment = production,
  ) => deploySite(html, environment, strategy);
  const rollback = (deploymentId?: string) =>
    as(owner).post(
      `/api/environments/${production.id}/rollback`,
      deploymentId ? { deployment_id: deploymentId } : {},
    );
  return { owner: owner.access_token, project, production, preview, deploy, rollback };
}

/** Two live production deployments (`one`, then `two`) and a canary of `three` serving 20%. */
async function canaryServing() {
  const seeded = await seed();
  const { production, deploy } = seeded;
  const one = await deploy('one');
  await drain(production.id);
  const two = await deploy('two');
  await drain(production.id);
  const canary = await deploy('three', 'canary');
  await drain(production.id);
  expect(await deploymentRow(db, canary.id)).toMatchObject({
    status: 'verifying',
    canaryPercent: 20,
  });
  return { ...seeded, one, two, canary };
}

async function productionBodies(projectId: string, count = 20) {
  const [project] = await db.select().from(projects).where(eq(projects.id, projectId));
  const bodies = new Set<string>();
  for (let i = 0; i < count; i++) {
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request(`http://${project!.hostLabel}.localhost/`, {
        headers: { cookie: `sparki_visitor=visitor-${i}` },
      }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    bodies.add(await response.text());
  }
  return bodies;
}

/**
 * Each deployment's history is one chain of moves the state machine allows, from `queued` to
 * the status the deployment has now: nothing was overwritten behind the history's back.
 */
async function expectConsistentHistory(...ids: string[]) {
  for (const id of ids) {
    const history = await transitionsOf(db, id);
    let status: DeploymentState = 'queued';
    for (const step of history) {
      const move = `${step.fromStatus} → ${step.toStatus}`;
      expect(step.fromStatus, `${id}: ${move} after ${status}`).toBe(status);
      expect(canTransition(status, step.toStatus), `${id}: ${move}`).toBe(true);
      status = step.toStatus;
    }
    expect((await deploymentRow(db, id)).status, `${id}: status after its history`).toBe(status);
  }
}

/** A transaction of the test's own holding the locks `take` takes, until released. */
async function holdLocks(take: (tx: Transaction) => Promise<unknown>) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding!: (pid: number) => void;
  const held = new Promise<number>((resolve) => {
    holding = resolve;
  });
  const done = db.transaction(async (tx) => {
    const { rows } = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
    await take(tx);
    holding(rows[0]!.pid);
    await released;
  });
  const pid = await Promise.race([held, done.then(() => 0)]);
  return {
    pid,
    release: async () => {
      release();
      await done;
    },
  };
}

/** The backend that waits for a lock backend `pid` holds (the side that is now blocked). */
async function waiterOn(pid: number): Promise<number> {
  const waiters = await eventually(
    async () =>
      (
        await db.execute<{ pid: number }>(
          sql`select pid from pg_stat_activity where ${pid}::int = any(pg_blocking_pids(pid))`,
        )
      ).rows,
    (rows) => rows.length > 0,
  );
  expect(waiters, `nothing waits for backend ${pid}`).toHaveLength(1);
  return waiters[0]!.pid;
}

describe('a rollback racing the engine', () => {
  it('during a canary step in progress: the step stops and production stays rolled back', async () => {
    const { project, production, one, two, canary, rollback } = await canaryServing();
    await elapse(db, canary.id);

    // The engine takes the environment's turn to resume the step, and is held there (on the
    // canary's row) while the rollback arrives and queues for the environment.
    const lock = await holdLocks((tx) =>
      tx.select().from(deployments).where(eq(deployments.id, canary.id)).for('update'),
    );
    const engine = drain(production.id);
    const turn = await waiterOn(lock.pid);
    const rolledBack = rollback(one.id);
    await waiterOn(turn);
    await lock.release();
    const [response] = await Promise.all([rolledBack, engine]);

    expect(response.status, response.text).toBe(200);
    expect(await environmentRow(db, production.id)).toMatchObject({
      liveDeploymentId: one.id,
      canaryDeploymentId: null,
      canaryPercent: 0,
    });
    expect(await deploymentRow(db, canary.id)).toMatchObject({
      status: 'rolled_back',
      rolledBackToId: one.id,
    });
    expect((await deploymentRow(db, two.id)).status).toBe('rolled_back');
    expect(await productionBodies(project.id)).toEqual(new Set(['one']));
    await expectConsistentHistory(one.id, two.id, canary.id);
  });

  it('while a canary step serves its time: the resumed step does not undo it', async () => {
    const { project, production, one, two, canary, rollback } = await canaryServing();
    const response = await rollback();
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ id: one.id, status: 'live' });

    await elapse(db, canary.id);
    await drain(production.id);
    expect((await environmentRow(db, production.id)).liveDeploymentId).toBe(one.id);
    expect((await deploymentRow(db, canary.id)).status).toBe('rolled_back');
    expect(await productionBodies(project.id)).toEqual(new Set(['one']));
    await expectConsistentHistory(one.id, two.id, canary.id);
  });

  it('in parallel with the step: either order ends on the rollback, with a consistent history', async () => {
    for (let round = 0; round < 3; round++) {
      const { project, production, one, two, canary, rollback } = await canaryServing();
      await elapse(db, canary.id);
      const [response] = await Promise.all([rollback(one.id), drain(production.id)]);
      expect(response.status, response.text).toBe(200);
      expect(await environmentRow(db, production.id)).toMatchObject({
        liveDeploymentId: one.id,
        canaryDeploymentId: null,
      });
      expect((await deploymentRow(db, one.id)).status).toBe('live');
      expect((await deploymentRow(db, canary.id)).status).toBe('rolled_back');
      expect(await productionBodies(project.id)).toEqual(new Set(['one']));
      await expectConsistentHistory(one.id, two.id, canary.id);
    }
  });
});

describe('a manual rollback', () => {
  it('puts a rolled-back deployment live again through the state machine', async () => {
    const { project, production, deploy, rollback } = await seed();
    const one = await deploy('one');
    await drain(production.id);
    const two = await deploy('two');
    await drain(production.id);

    expect((await rollback()).status).toBe(200);
    expect((await deploymentRow(db, two.id)).status).toBe('rolled_back');
    const again = await rollback(two.id);
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ id: two.id, status: 'live' });
    expect(await deploymentRow(db, one.id)).toMatchObject({
      status: 'rolled_back',
      rolledBackToId: two.id,
    });
    expect((await environmentRow(db, production.id)).liveDeploymentId).toBe(two.id);
    expect(await productionBodies(project.id)).toEqual(new Set(['two']));
    await expectConsistentHistory(one.id, two.id);
  });

  it('refuses a deployment that never served', async () => {
    const { production, deploy, rollback } = await seed();
    const one = await deploy('one');
    await drain(production.id);
    // Its health check fails, so it is rolled back on its own without ever going live.
    await db
      .update(environments)
      .set({
        deployConfig: {
          ...CANARY_CONFIG,
          health_check: { ...CANARY_CONFIG.health_check, path: '/x' },
        },
      })
      .where(eq(environments.id, production.id));
    const broken = await deploy('broken');
    await drain(production.id);
    expect((await deploymentRow(db, broken.id)).status).toBe('rolled_back');

    const response = await rollback(broken.id);
    expect(response.status).toBe(409);
    expect((await environmentRow(db, production.id)).liveDeploymentId).toBe(one.id);
    await expectConsistentHistory(one.id, broken.id);
  });
});

describe('the stale-deployment sweep racing the engine', () => {
  it('a deployment it failed is not taken back by its late engine', async () => {
    const { preview, deploy } = await seed();
    const late = await deploy('late', 'all_at_once', preview);
    // The engine is held mid-deployment (giving the new project its host name) long enough for
    // the sweep to call it stale.
    const lock = await holdLocks((tx) =>
      tx.select().from(projects).where(eq(projects.id, late.projectId)).for('update'),
    );
    const engine = drain(preview.id);
    await waiterOn(lock.pid);
    await db
      .update(deployments)
      .set({ startedAt: new Date(Date.now() - 60 * 60 * 1000) })
      .where(eq(deployments.id, late.id));
    await failStaleDeployments(db, new Date(), noMetrics);
    expect((await deploymentRow(db, late.id)).status).toBe('failed');
    await lock.release();
    await engine;

    expect(await deploymentRow(db, late.id)).toMatchObject({
      status: 'failed',
      error: 'the deploy engine stopped answering',
    });
    await expectConsistentHistory(late.id);
  });

  it('in parallel with a resumed canary step: live or failed, never both', async () => {
    for (let round = 0; round < 3; round++) {
      const { production, two, canary } = await canaryServing();
      // The step is due and its resume went unanswered for longer than the sweep waits.
      await db.execute(
        sql`update deployments set resume_at = now() - interval '20 minutes',
            updated_at = now() - interval '20 minutes' where id = ${canary.id}`,
      );
      await Promise.all([drain(production.id), failStaleDeployments(db, new Date(), noMetrics)]);

      const ended = await deploymentRow(db, canary.id);
      expect(['live', 'failed']).toContain(ended.status);
      expect(await environmentRow(db, production.id)).toMatchObject({
        liveDeploymentId: ended.status === 'live' ? canary.id : two.id,
        canaryDeploymentId: null,
      });
      await expectConsistentHistory(two.id, canary.id);
    }
  });
});

describe('cancel', () => {
  it('takes only a queued deployment, once', async () => {
    const { owner, production, deploy } = await seed();
    const queued = await deploy('queued');
    const [first, second] = await Promise.all([
      as(owner).post(`/api/deployments/${queued.id}/cancel`),
      as(owner).post(`/api/deployments/${queued.id}/cancel`),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    await drain(production.id);
    expect((await deploymentRow(db, queued.id)).status).toBe('canceled');
    await expectConsistentHistory(queued.id);
  });
});
