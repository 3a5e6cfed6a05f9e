import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { HubMessage } from '../../core/runner-protocol';
import { builds, deployments, environments, webhookDeliveries } from '../../db/schema';
import { requestDeployment } from '../../domain/deployments/request';
import giteaPushFixture from '../fixtures/webhooks/gitea-push.json';
import { as, seedTeam } from './api-client';
import { fetchWorker, testDb } from './harness';
import { onlineRunner, type RunnerSocket, registerRunner } from './runner-helpers';
import { atRepo, deliveryHeaders, signatureHeaders } from './webhook-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

/** A team whose workspace has a project on a local repository, and a runner of its own. */
async function setup(project: Record<string, unknown> = {}) {
  const team = await seedTeam();
  const owner = as(team.owner);
  const suffix = crypto.randomUUID().slice(0, 8);
  const created = await owner.post<{ id: string; webhook_secret: string }>(
    `/api/workspaces/${team.workspace.id}/projects`,
    {
      name: 'Laptop site',
      slug: `laptop-${suffix}`,
      git_provider: 'none',
      repo_url: `/home/me/site-${suffix}`,
      production_branch: 'main',
      ...project,
    },
  );
  expect(created.status, created.text).toBe(201);
  const runner = await registerRunner(team.owner.access_token, team.workspace.id);
  return {
    team,
    owner,
    projectId: created.body.id,
    webhookSecret: created.body.webhook_secret,
    runner,
  };
}

async function projectBuilds(projectId: string) {
  return db.select().from(builds).where(eq(builds.projectId, projectId)).orderBy(builds.number);
}

/** Sends a heads report and waits for the hub's answer to it. */
async function report(socket: RunnerSocket, projectId: string, heads: Record<string, string>) {
  socket.send({
    type: 'heads',
    project_id: projectId,
    heads: Object.entries(heads).map(([branch, sha]) => ({ branch, sha })),
  });
  // A build the report queued may be offered to this very runner before the answer arrives.
  for (;;) {
    const message = await socket.nextAny(15_000, 'heads_recorded');
    if (message.type === 'heads_recorded') return message;
    expect(message.type).toBe('job');
  }
}

/**
 * The hub's next watch list for the runner. A build queued meanwhile is offered to the runner
 * too, as soon as the builds queue delivers it (at once with a 0 s batch window), so an
 * offer may come first: these tests are about watching, not about which message wins the race.
 */
async function nextWatch(socket: RunnerSocket) {
  for (;;) {
    const message = await socket.nextAny(5_000, 'watch');
    if (message.type === 'job') continue;
    expect(message.type).toBe('watch');
    return message as Extract<HubMessage, { type: 'watch' }>;
  }
}

describe('repository polling: the watch list', () => {
  it('sends a connected runner the local repositories it polls, and a change of setting', async () => {
    const { owner, projectId, runner, team } = await setup();
    // A project with a webhook provider on GitHub is not polled.
    const other = await owner.post(`/api/workspaces/${team.workspace.id}/projects`, {
      name: 'Public',
      slug: `public-${crypto.randomUUID().slice(0, 8)}`,
      git_provider: 'github',
      repo_url: 'https://github.com/acme/public',
    });
    expect(other.status).toBe(201);
    const socket = await onlineRunner(runner.runner_token);
    const watch = await nextWatch(socket);
    expect(watch.repos).toEqual([
      {
        project_id: projectId,
        repo_url: expect.stringMatching(/^\/home\/me\/site-/),
        interval_ms: 30_000,
      },
    ]);

    const invalid = await owner.patch(`/api/projects/${projectId}/settings`, {
      poll_interval_seconds: 4,
    });
    expect(invalid.status).toBe(400);
    const slower = await owner.patch<{ settings: { poll_interval_seconds: number } }>(
      `/api/projects/${projectId}/settings`,
      { poll_interval_seconds: 300 },
    );
    expect(slower.status, slower.text).toBe(200);
    expect(slower.body.settings.poll_interval_seconds).toBe(300);
    expect((await nextWatch(socket)).repos).toEqual([
      expect.objectContaining({ project_id: projectId, interval_ms: 300_000 }),
    ]);
    const off = await owner.patch(`/api/projects/${projectId}/settings`, {
      poll_interval_seconds: 0,
    });
    expect(off.status).toBe(200);
    expect((await nextWatch(socket)).repos).toEqual([]);
    await socket.expectNothingSent();
  });

  it('gives each project to exactly one of the connected runners', async () => {
    const { owner, projectId, team, runner } = await setup();
    const more = [];
    for (let i = 0; i < 5; i++) {
      const created = await owner.post<{ id: string; webhook_secret: string }>(
        `/api/workspaces/${team.workspace.id}/projects`,
        {
          name: `Site ${i}`,
          slug: `site-${i}-${crypto.randomUUID().slice(0, 6)}`,
          git_provider: 'none',
          repo_url: `file:///srv/git/site-${i}`,
        },
      );
      more.push(created.body.id);
    }
    const second = await registerRunner(team.owner.access_token, team.workspace.id);
    const first = await onlineRunner(runner.runner_token);
    expect((await first.next('watch')).repos).toHaveLength(6);
    const other = await onlineRunner(second.runner_token);
    const theirs = (await other.next('watch')).repos.map((repo) => repo.project_id);
    // The first runner hands over the other's share, if it has one.
    const mine =
      theirs.length > 0
        ? (await first.next('watch')).repos.map((repo) => repo.project_id)
        : [projectId, ...more];
    expect([...mine, ...theirs].sort()).toEqual([projectId, ...more].sort());
    expect(mine.filter((id) => theirs.includes(id))).toEqual([]);
  });
});

describe('repository polling: head reports', () => {
  it('builds the production head first, a moved head once, and a new branch as a preview', async () => {
    const { projectId, runner } = await setup();
    const socket = await onlineRunner(runner.runner_token);
    await nextWatch(socket);

    // The first report is a baseline: only the production branch is built.
    expect(await report(socket, projectId, { main: A, old: B })).toMatchObject({
      queued: 1,
      deleted: 0,
    });
    let rows = await projectBuilds(projectId);
    expect(rows).toEqual([
      expect.objectContaining({
        commitSha: A,
        branch: 'main',
        trigger: 'push',
        target: 'production',
      }),
    ]);

    // The same heads again: nothing.
    expect(await report(socket, projectId, { main: A, old: B })).toMatchObject({ queued: 0 });
    expect(await projectBuilds(projectId)).toHaveLength(1);

    // main moves and a branch appears: two builds.
    expect(await report(socket, projectId, { main: B, old: B, feature: C })).toMatchObject({
      queued: 2,
    });
    rows = await projectBuilds(projectId);
    expect(rows.slice(1).map((row) => [row.branch, row.commitSha, row.target])).toEqual(
      expect.arrayContaining([
        ['main', B, 'production'],
        ['feature', C, 'preview'],
      ]),
    );
    const recorded = await db
      .select()
      .from(webhookDeliveries)
      .where(
        and(eq(webhookDeliveries.projectId, projectId), eq(webhookDeliveries.provider, 'poll')),
      );
    expect(recorded.map((row) => row.deliveryId).sort()).toEqual(
      [`push:feature:${C}`, `push:main:${A}`, `push:main:${B}`].sort(),
    );
  });

  it('a head seen before is not built again, and a deleted branch retires its previews', async () => {
    const { projectId, runner } = await setup();
    const socket = await onlineRunner(runner.runner_token);
    await nextWatch(socket);
    await report(socket, projectId, { main: A });
    expect(await report(socket, projectId, { main: A, feature: B })).toMatchObject({ queued: 1 });
    // A preview of the feature branch, waiting to deploy.
    const [previewEnv] = await db
      .select()
      .from(environments)
      .where(and(eq(environments.projectId, projectId), eq(environments.kind, 'preview')));
    const [featureBuild] = await db
      .insert(builds)
      .values({
        projectId,
        number: 99,
        commitSha: B,
        branch: 'feature',
        trigger: 'push',
        target: 'preview',
        status: 'succeeded',
      })
      .returning();
    const preview = await requestDeployment(db, {
      requestKey: `test:${crypto.randomUUID()}`,
      buildId: featureBuild!.id,
      projectId,
      environmentId: previewEnv!.id,
      stage: 'preview',
    });

    expect(await report(socket, projectId, { main: A })).toMatchObject({ queued: 0, deleted: 1 });
    const [row] = await db.select().from(deployments).where(eq(deployments.id, preview.id));
    expect(row?.status).toBe('retired');

    // The branch comes back at the head it had: already built, not built again.
    expect(await report(socket, projectId, { main: A, feature: B })).toMatchObject({
      queued: 0,
    });
  });

  it('the baseline leaves the production branch to a build of its head already asked for', async () => {
    const { owner, projectId, runner } = await setup();
    const asked = await owner.post(`/api/projects/${projectId}/builds`, {});
    expect(asked.status, asked.text).toBe(201);
    const socket = await onlineRunner(runner.runner_token);
    await nextWatch(socket);
    expect(await report(socket, projectId, { main: A })).toMatchObject({ queued: 0 });
    expect(await projectBuilds(projectId)).toHaveLength(1);
    // From then on a moved head builds, unless that commit of the branch was built already.
    const manual = await owner.post(`/api/projects/${projectId}/builds`, {
      branch: 'main',
      commit_sha: B,
    });
    expect(manual.status, manual.text).toBe(201);
    expect(await report(socket, projectId, { main: B })).toMatchObject({ queued: 0 });
    expect(await report(socket, projectId, { main: C })).toMatchObject({ queued: 1 });
  });

  it('starts from a new baseline when the project moves to another repository', async () => {
    const { owner, projectId, runner } = await setup();
    const socket = await onlineRunner(runner.runner_token);
    await nextWatch(socket);
    await report(socket, projectId, { main: A, one: A, two: A });
    const moved = await owner.patch(`/api/projects/${projectId}`, {
      repo_url: `/home/me/elsewhere-${crypto.randomUUID().slice(0, 8)}`,
    });
    expect(moved.status, moved.text).toBe(200);
    expect((await nextWatch(socket)).repos[0]?.repo_url).toContain('/home/me/elsewhere-');
    // Not three deletions and two builds: only the production head of the new repository.
    expect(await report(socket, projectId, { main: B, three: C, four: C })).toMatchObject({
      queued: 1,
      deleted: 0,
    });
  });

  it('takes a report only from the runner the project is assigned to, for a polled project', async () => {
    const { owner, projectId, runner, team } = await setup();
    const socket = await onlineRunner(runner.runner_token);
    await nextWatch(socket);

    // A runner of another workspace cannot report this workspace's project.
    const stranger = await seedTeam();
    const foreign = await registerRunner(stranger.owner.access_token, stranger.workspace.id);
    const foreignSocket = await onlineRunner(foreign.runner_token);
    foreignSocket.send({
      type: 'heads',
      project_id: projectId,
      heads: [{ branch: 'main', sha: A }],
    });
    expect((await foreignSocket.next('error')).message).toContain('is not polled by this runner');

    // A second runner of the workspace that is not assigned the project.
    const second = await registerRunner(team.owner.access_token, team.workspace.id);
    const secondSocket = await onlineRunner(second.runner_token);
    const watch = await secondSocket.next('watch', 2_000).catch(() => undefined);
    const [assigned, other] = watch?.repos.length ? [secondSocket, socket] : [socket, secondSocket];
    if (watch?.repos.length) await nextWatch(socket);
    other.send({ type: 'heads', project_id: projectId, heads: [{ branch: 'main', sha: A }] });
    expect((await other.next('error')).message).toContain('is not polled by this runner');

    // Polling turned off: not even the assigned runner may report.
    await owner.patch(`/api/projects/${projectId}/settings`, { poll_interval_seconds: 0 });
    expect((await assigned.next('watch')).repos).toEqual([]);
    assigned.send({ type: 'heads', project_id: projectId, heads: [{ branch: 'main', sha: A }] });
    expect((await assigned.next('error')).message).toContain('is not polled by this runner');
    expect(await projectBuilds(projectId)).toEqual([]);

    // A malformed report is refused by the protocol.
    assigned.send({
      type: 'heads',
      project_id: projectId,
      heads: [{ branch: '-x', sha: 'nope' }],
    } as never);
    expect((await assigned.next('error')).message).toContain('Unrecognised message');
  });
});

describe('repository polling and webhooks on one project', () => {
  /** A Gitea push of `sha` to `branch`, signed with the project's secret: the answer's body. */
  async function giteaPush(
    projectId: string,
    secret: string,
    repoUrl: string,
    branch: string,
    sha: string,
  ) {
    const payload = {
      ...atRepo('gitea', giteaPushFixture, repoUrl),
      ref: `refs/heads/${branch}`,
      after: sha,
    };
    const body = JSON.stringify(payload);
    const response = await fetchWorker(`/webhooks/gitea/${projectId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...deliveryHeaders('gitea', 'push', crypto.randomUUID()),
        ...(await signatureHeaders('gitea', secret, body)),
      },
      body,
    });
    return {
      status: response.status,
      body: await response.json<{ status: string; reason?: string }>(),
    };
  }

  it('builds a head once, whether the poll or the webhook brings it first', async () => {
    const repoUrl = `https://gitea.example.com/acme/both-${crypto.randomUUID().slice(0, 8)}`;
    const { owner, projectId, webhookSecret, runner } = await setup({
      git_provider: 'gitea',
      repo_url: repoUrl,
    });
    const polled = await owner.patch(`/api/projects/${projectId}/settings`, {
      poll_interval_seconds: 60,
    });
    expect(polled.status, polled.text).toBe(200);
    const socket = await onlineRunner(runner.runner_token);
    expect((await nextWatch(socket)).repos).toHaveLength(1);

    // The poll first: the webhook of the same push builds nothing more.
    expect(await report(socket, projectId, { main: A })).toMatchObject({ queued: 1 });
    const late = await giteaPush(projectId, webhookSecret, repoUrl, 'main', A);
    expect(late.body).toMatchObject({ status: 'ignored', reason: expect.stringContaining('poll') });
    // The webhook first: the poll that finds the head then builds nothing more.
    const early = await giteaPush(projectId, webhookSecret, repoUrl, 'main', B);
    expect(early.status, JSON.stringify(early.body)).toBe(202);
    expect(await report(socket, projectId, { main: B })).toMatchObject({ queued: 0 });
    expect((await projectBuilds(projectId)).map((build) => build.commitSha)).toEqual([A, B]);
  });
});

describe('POST /api/projects/{id}/poll', () => {
  it('asks the runner that polls the project to poll it now', async () => {
    const { team, projectId, runner } = await setup();
    const developer = as(team.developer);
    const none = await developer.post<{ error: { code: string } }>(
      `/api/projects/${projectId}/poll`,
    );
    expect(none.status).toBe(503);
    expect(none.body.error.code).toBe('not_ready');

    const socket = await onlineRunner(runner.runner_token);
    await nextWatch(socket);
    const asked = await developer.post<{ status: string; runner_id: string }>(
      `/api/projects/${projectId}/poll`,
    );
    expect(asked.status, asked.text).toBe(202);
    expect(asked.body).toEqual({ status: 'requested', runner_id: runner.runner_id });
    expect(await socket.next('poll')).toEqual({ type: 'poll', project_id: projectId });

    expect((await as(team.viewer).post(`/api/projects/${projectId}/poll`)).status).toBe(403);
    expect((await as(team.outsider).post(`/api/projects/${projectId}/poll`)).status).toBe(404);
    expect((await as().post(`/api/projects/${projectId}/poll`)).status).toBe(401);
  });

  it('answers 409 for a project whose repository is not polled', async () => {
    const { team, projectId } = await setup({
      git_provider: 'github',
      repo_url: 'https://github.com/acme/site',
    });
    const answer = await as(team.developer).post<{ error: { message: string } }>(
      `/api/projects/${projectId}/poll`,
    );
    expect(answer.status).toBe(409);
    expect(answer.body.error.message).toContain('poll_interval_seconds');
  });
});
