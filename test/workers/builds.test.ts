import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLogs, builds } from '../../db/schema';
import { runnerHub } from '../../platform/durable-objects';
import { as } from './api-client';
import { newUser } from './auth-helpers';
import { buildStatus, eventually, testDb } from './harness';
import { addMember, projectFixture } from './project-fixtures';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface BuildBody {
  id: string;
  number: number;
  status: string;
  trigger: string;
  target: string;
  branch: string | null;
  commit_sha: string | null;
  retry_of: string | null;
  error: string | null;
  cancel_requested_at: string | null;
  steps?: unknown[];
}

const SHA = 'A'.repeat(40);

async function setup() {
  const fixture = await projectFixture({ productionBranch: 'main' });
  const developer = await newUser('dev');
  const viewer = await newUser('viewer');
  await addMember(db, fixture.workspace.id, developer.email, 'developer');
  await addMember(db, fixture.workspace.id, viewer.email, 'viewer');
  const token = developer.access_token;
  const trigger = async (body: Record<string, string> = {}) => {
    const response = await as(token).post<BuildBody>(
      `/api/projects/${fixture.project.id}/builds`,
      body,
    );
    expect(response.status, response.text).toBe(201);
    const build = response.body;
    // The queue consumer plans it in the background; letting it finish first keeps what the
    // test checks next from racing the consumer.
    await eventually(
      () => buildStatus(db, build.id),
      (status) => status !== 'queued',
    );
    return build;
  };
  return { ...fixture, developer, viewer, token, trigger };
}

/** Waits for the real queue's consumer to offer the build to the hub. */
async function planned(buildId: string) {
  expect(
    await eventually(
      () => buildStatus(db, buildId),
      (s) => s === 'planned',
    ),
  ).toBe('planned');
}

describe('manual builds', () => {
  it('numbers concurrent API builds of one project once each, with no error', async () => {
    const { token, project } = await setup();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        as(token).post<BuildBody>(`/api/projects/${project.id}/builds`, { branch: `b${i}` }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(201));
    const numbers = responses.map((response) => response.body.number);
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('builds the production branch head by default and a named commit as asked', async () => {
    const { trigger } = await setup();
    const head = await trigger();
    expect(head).toMatchObject({
      number: 1,
      status: 'queued',
      trigger: 'manual',
      target: 'production',
      branch: 'main',
      commit_sha: null,
    });
    const commit = await trigger({ branch: 'feature/x', commit_sha: SHA });
    expect(commit).toMatchObject({
      number: 2,
      target: 'preview',
      branch: 'feature/x',
      commit_sha: SHA.toLowerCase(),
    });
    const [audit] = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'build.triggered'), eq(auditLogs.targetId, commit.id)));
    expect(audit?.metadata).toMatchObject({ branch: 'feature/x' });
  });

  it('refuses to build a project without a repository', async () => {
    const { owner, project } = await projectFixture({ provider: 'none' });
    const response = await as(owner).post(`/api/projects/${project.id}/builds`, {});
    expect(response.status).toBe(409);
  });

  it('lets a viewer read builds but not start one, and hides them from strangers', async () => {
    const { trigger, viewer, project } = await setup();
    const stranger = await newUser('stranger');
    const build = await trigger();
    const path = `/api/projects/${project.id}/builds`;
    expect((await as(viewer).post(path, {})).status).toBe(403);
    expect((await as(viewer).get(path)).status).toBe(200);
    const one = await as(viewer).get<BuildBody>(`/api/builds/${build.id}`);
    expect(one.status).toBe(200);
    expect(one.body.steps).toEqual([]);
    expect((await as(stranger).post(path, {})).status).toBe(404);
    expect((await as(stranger).get(`/api/builds/${build.id}`)).status).toBe(404);
    expect((await as(stranger).post(`/api/builds/${build.id}/cancel`)).status).toBe(404);
  });

  it('lists newest first with status and branch filters and a cursor', async () => {
    const { trigger, token, project } = await setup();
    for (const branch of ['a', 'b', 'a']) await trigger({ branch });
    const path = `/api/projects/${project.id}/builds`;
    const first = (
      await as(token).get<{
        builds: BuildBody[];
        next_cursor: string | null;
      }>(`${path}?limit=2`)
    ).body;
    expect(first.builds.map((b) => b.number)).toEqual([3, 2]);
    const second = (
      await as(token).get<{ builds: BuildBody[]; next_cursor: string | null }>(
        `${path}?limit=2&cursor=${first.next_cursor}`,
      )
    ).body;
    expect(second.builds.map((b) => b.number)).toEqual([1]);
    expect(second.next_cursor).toBeNull();
    const onA = (await as(token).get<{ builds: BuildBody[] }>(`${path}?branch=a`)).body;
    expect(onA.builds.map((b) => b.number)).toEqual([3, 1]);
    // The second build on `a` superseded the first.
    const canceled = (await as(token).get<{ builds: BuildBody[] }>(`${path}?status=canceled`)).body;
    expect(canceled.builds.map((b) => b.number)).toEqual([1]);
  });
});

describe('cancel and retry', () => {
  it('cancels a waiting build at once and takes it off the runner queue', async () => {
    const { trigger, token, workspace } = await setup();
    const build = await trigger();
    await planned(build.id);
    expect((await runnerHub(env, workspace.id).pending()).map((j) => j.buildId)).toContain(
      build.id,
    );
    const response = await as(token).post<BuildBody>(`/api/builds/${build.id}/cancel`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'canceled' });
    expect((await runnerHub(env, workspace.id).pending()).map((j) => j.buildId)).not.toContain(
      build.id,
    );
    const [audit] = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'build.canceled'), eq(auditLogs.targetId, build.id)));
    expect(audit).toBeDefined();
    const again = await as(token).post(`/api/builds/${build.id}/cancel`);
    expect(again.status).toBe(409);
    // Its log ends too, so a page watching it is told the build is over.
    const [row] = await db
      .select({ logKey: builds.logKey })
      .from(builds)
      .where(eq(builds.id, build.id));
    expect(row?.logKey).toBeTruthy();
  });

  it('asks the runner to stop a running build', async () => {
    const { trigger, token } = await setup();
    const build = await trigger();
    await planned(build.id);
    await db.update(builds).set({ status: 'running' }).where(eq(builds.id, build.id));
    const response = await as(token).post<BuildBody>(`/api/builds/${build.id}/cancel`);
    expect(response.status).toBe(200);
    const body = response.body;
    expect(body.status).toBe('running');
    expect(body.cancel_requested_at).not.toBeNull();
  });

  it('retries a finished build as a new build of the same commit', async () => {
    const { trigger, token } = await setup();
    const build = await trigger({ branch: 'main', commit_sha: SHA });
    const early = await as(token).post(`/api/builds/${build.id}/retry`);
    expect(early.status).toBe(409);
    await db.update(builds).set({ status: 'failed' }).where(eq(builds.id, build.id));
    const response = await as(token).post<BuildBody>(`/api/builds/${build.id}/retry`);
    expect(response.status).toBe(201);
    const retry = response.body;
    expect(retry).toMatchObject({
      number: 2,
      trigger: 'retry',
      retry_of: build.id,
      commit_sha: SHA.toLowerCase(),
      target: 'production',
      status: 'queued',
    });
  });
});

describe('supersede', () => {
  it('cancels waiting builds of the same branch when a newer one is queued', async () => {
    const { trigger, workspace } = await setup();
    const older = await trigger({ branch: 'feature' });
    const other = await trigger({ branch: 'elsewhere' });
    await planned(older.id);
    const newer = await trigger({ branch: 'feature' });
    const [row] = await db.select().from(builds).where(eq(builds.id, older.id));
    expect(row).toMatchObject({ status: 'canceled', error: `superseded by #${newer.number}` });
    // Its log is ended (archived) like any finished build's.
    expect(row?.logKey).toBeTruthy();
    expect(await buildStatus(db, other.id)).not.toBe('canceled');
    expect((await runnerHub(env, workspace.id).pending()).map((j) => j.buildId)).not.toContain(
      older.id,
    );
  });

  it('keeps them when the project turns cancel_superseded off', async () => {
    const { trigger, token, viewer, project } = await setup();
    const path = `/api/projects/${project.id}/settings`;
    expect((await as(viewer).patch(path, { cancel_superseded: false })).status).toBe(403);
    expect((await as(token).patch(path, { cancel_supersede: false })).status).toBe(400);
    const patched = await as(token).patch<{ settings: Record<string, unknown> }>(path, {
      cancel_superseded: false,
      max_concurrent_builds: 2,
      overrides: { buildCommand: 'npm run build:site' },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.settings).toMatchObject({
      cancel_superseded: false,
      max_concurrent_builds: 2,
      overrides: { buildCommand: 'npm run build:site' },
    });
    const older = await trigger({ branch: 'feature' });
    await trigger({ branch: 'feature' });
    expect(await buildStatus(db, older.id)).not.toBe('canceled');
  });

  it('does not supersede with a retry', async () => {
    const { trigger, token } = await setup();
    const done = await trigger({ branch: 'feature', commit_sha: SHA });
    await db.update(builds).set({ status: 'succeeded' }).where(eq(builds.id, done.id));
    const waiting = await trigger({ branch: 'feature' });
    expect((await as(token).post(`/api/builds/${done.id}/retry`)).status).toBe(201);
    expect(await buildStatus(db, waiting.id)).not.toBe('canceled');
  });
});
