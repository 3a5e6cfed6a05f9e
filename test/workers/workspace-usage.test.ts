import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { builds, deployments, environments, invites, workspaces } from '../../db/schema';
import { monthStart } from '../../domain/workspaces/usage';
import { anonymous, as, type ErrorEnvelope } from './api-client';
import { newUser } from './auth-helpers';
import { testDb } from './harness';
import { addMember } from './project-fixtures';
import { ownerWithWorkspace, queuedBuild, registerRunner } from './runner-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface Usage {
  plan: string;
  period_start: string;
  limits: { concurrent_builds: number; api_requests_per_minute: number };
  usage: Record<string, number>;
}

const MINUTE = 60_000;

describe('GET /api/workspaces/{id}/usage', () => {
  it("counts this month's builds, their runner time and the workspace's members, projects and runners", async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const now = Date.now();
    const start = monthStart(new Date(now)).getTime();
    // A finished build of 3 minutes and one from last month, which does not count.
    const { project } = await queuedBuild(db, workspace.id, {
      status: 'succeeded',
      createdAt: new Date(now),
      startedAt: new Date(now - 3 * MINUTE),
      finishedAt: new Date(now),
    });
    await db.insert(builds).values({
      projectId: project.id,
      number: 2,
      branch: 'main',
      trigger: 'push',
      status: 'failed',
      createdAt: new Date(start - 10 * MINUTE),
      startedAt: new Date(start - 10 * MINUTE),
      finishedAt: new Date(start - MINUTE),
    });
    const runner = await registerRunner(owner.access_token, workspace.id);
    // A running build on that runner, started a minute ago.
    await db.insert(builds).values({
      projectId: project.id,
      number: 3,
      branch: 'main',
      trigger: 'push',
      status: 'running',
      runnerId: runner.runner_id,
      startedAt: new Date(now - MINUTE),
    });
    const viewer = await newUser('usage-viewer');
    await addMember(db, workspace.id, viewer.email, 'viewer');
    await db.insert(invites).values({
      workspaceId: workspace.id,
      email: 'pending@example.com',
      role: 'developer',
      tokenHash: `hash-${crypto.randomUUID()}`,
      expiresAt: new Date(now + 60 * MINUTE),
    });
    const [environment] = await db
      .insert(environments)
      .values({ projectId: project.id, name: 'production', kind: 'production' })
      .returning();
    await db.insert(deployments).values({
      projectId: project.id,
      buildId: (
        await db.select({ id: builds.id }).from(builds).where(eq(builds.projectId, project.id))
      )[0]!.id,
      environmentId: environment!.id,
      stage: 'production',
      platform: 'edge',
      status: 'live',
    });
    const response = await as(viewer).get<Usage>(`/api/workspaces/${workspace.id}/usage`);
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      plan: 'free',
      period_start: new Date(start).toISOString(),
      limits: { concurrent_builds: 1, api_requests_per_minute: 60 },
      usage: {
        builds_this_month: 2,
        deployments_this_month: 1,
        running_builds: 1,
        projects: 1,
        members: 2,
        pending_invites: 1,
        runners: 1,
      },
    });
    // 3 minutes finished plus the running one's minute so far (and the request's own moment).
    const seconds = response.body.usage.build_seconds_this_month!;
    expect(seconds).toBeGreaterThanOrEqual(240);
    expect(seconds).toBeLessThan(300);
  });

  it("follows the workspace's plan", async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    await db.update(workspaces).set({ plan: 'team' }).where(eq(workspaces.id, workspace.id));
    const response = await as(owner).get<Usage>(`/api/workspaces/${workspace.id}/usage`);
    expect(response.body).toMatchObject({
      plan: 'team',
      limits: { concurrent_builds: 10, api_requests_per_minute: 3000 },
      usage: { builds_this_month: 0, build_seconds_this_month: 0, members: 1, runners: 0 },
    });
  });

  it('answers 404 to a non-member, 401 without a session and 400 to a malformed id', async () => {
    const { workspace } = await ownerWithWorkspace();
    const stranger = await newUser('usage-stranger');
    const hidden = await as(stranger).get<ErrorEnvelope>(`/api/workspaces/${workspace.id}/usage`);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('not_found');
    expect((await anonymous.get(`/api/workspaces/${workspace.id}/usage`)).status).toBe(401);
    const malformed = await as(stranger).get<ErrorEnvelope>('/api/workspaces/not-a-uuid/usage');
    expect(malformed.status).toBe(400);
  });
});

describe('GET /api/workspaces/{id}/runners', () => {
  it('counts the builds each runner is running now', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const busy = await registerRunner(owner.access_token, workspace.id, { name: 'a-busy' });
    await registerRunner(owner.access_token, workspace.id, { name: 'b-idle' });
    const { project } = await queuedBuild(db, workspace.id, {
      status: 'running',
      runnerId: busy.runner_id,
      startedAt: new Date(),
    });
    await db.insert(builds).values({
      projectId: project.id,
      number: 2,
      branch: 'main',
      trigger: 'push',
      status: 'succeeded',
      runnerId: busy.runner_id,
    });
    const response = await as(owner).get<{ runners: { name: string; running_builds: number }[] }>(
      `/api/workspaces/${workspace.id}/runners`,
    );
    expect(response.status).toBe(200);
    expect(response.body.runners.map((r) => [r.name, r.running_builds])).toEqual([
      ['a-busy', 1],
      ['b-idle', 0],
    ]);
  });
});
