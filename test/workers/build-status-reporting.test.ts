import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { builds } from '../../db/schema';
import { formatDuration } from '../../domain/reporting/build-status';
import { createLogger } from '../../platform/logger';
import { createServices } from '../../platform/services';
import { handleBuildsMessage } from '../../queues/builds';
import worker from '../../workers/index';
import { as } from './api-client';
import { authed } from './auth-helpers';
import { type ForgeStatus, fakeForge, GITEA_TOKEN, GITHUB_API, GITLAB_TOKEN } from './fake-forge';
import { buildStatus, eventually, fetchWorker, testDb } from './harness';
import { projectFixture } from './project-fixtures';
import { onlineRunner, registerRunner } from './runner-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());
afterEach(() => {
  vi.restoreAllMocks();
});

const keys = await generateKeyPair('RS256', { extractable: true });
const APP = {
  id: '1234',
  installationId: 42,
  publicKeyPem: await exportSPKI(keys.publicKey),
};
const GITHUB_APP = {
  kind: 'github_app',
  app_id: APP.id,
  private_key_pem: await exportPKCS8(keys.privateKey),
  installation_id: APP.installationId,
  api_base: GITHUB_API,
};
const CREDENTIALS = {
  github: GITHUB_APP,
  gitlab: { kind: 'token', token: GITLAB_TOKEN },
  gitea: { kind: 'token', token: GITEA_TOKEN },
} as const;

type Provider = keyof typeof CREDENTIALS;

let shas = 0;
/** A fresh full commit sha per build, so statuses of different tests never mix. */
function newSha() {
  shas++;
  return `${crypto.randomUUID().replaceAll('-', '')}${String(shas).padStart(8, '0')}`;
}

/** A project on `provider` whose owner has set reporting credentials through the API. */
async function reportingProject(provider: Provider) {
  const fixture = await projectFixture({ provider, productionBranch: 'main' });
  const path = `/api/projects/${fixture.project.id}/git-reporting`;
  const set = await as(fixture.owner).put(path, CREDENTIALS[provider]);
  expect(set.status, set.text).toBe(200);
  const repo = new URL(fixture.project.repo_url).pathname.slice(1);
  return { ...fixture, repo };
}

interface BuildBody {
  id: string;
  number: number;
  status: string;
}

async function trigger(token: string, projectId: string, body: Record<string, string>) {
  const response = await as(token).post<BuildBody>(`/api/projects/${projectId}/builds`, body);
  expect(response.status, response.text).toBe(201);
  return response.body;
}

/** Every request for a forge goes to `forge`, from this test and from the queue consumers alike. */
function routeForgeTraffic(forge: ReturnType<typeof fakeForge>) {
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const request = new Request(input, init);
    return forge.handles(request.url) ? forge.fetch(request) : realFetch(request);
  });
}

/** The `sparki/build` statuses a commit received, with repeats of the same one folded. */
function buildStatuses(forge: ReturnType<typeof fakeForge>, sha: string) {
  const all = forge.statuses.filter(
    (status) => status.sha === sha && status.context === 'sparki/build',
  );
  return all.filter(
    (status, index) => index === 0 || status.description !== all[index - 1]!.description,
  );
}

function described(statuses: ForgeStatus[]) {
  return statuses.map((status) => `${status.state}: ${status.description}`);
}

async function until(forge: ReturnType<typeof fakeForge>, sha: string, description: RegExp) {
  const statuses = await eventually(
    async () => buildStatuses(forge, sha),
    (list) => list.some((status) => description.test(status.description)),
  );
  expect(described(statuses)).toContainEqual(expect.stringMatching(description));
  return statuses;
}

function completeJob(buildId: string, jobToken: string, result: Record<string, unknown>) {
  return fetchWorker(
    `/api/jobs/${buildId}/complete`,
    authed(jobToken, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(result),
    }),
  );
}

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({}, 'warn', (line) => lines.push(JSON.parse(line)));
  return { logger, events: () => lines.map((line) => line.event) };
}

/** The builds consumer on one `build.status` message, with the forge's fetch. */
async function deliverStatus(
  buildId: string,
  fetch: (request: Request) => Promise<Response>,
  logger = createLogger({}, 'error'),
) {
  const { services, close } = createServices(env);
  try {
    await handleBuildsMessage(
      { type: 'build.status', buildId },
      { env, services, logger },
      { fetch },
    );
  } finally {
    await close();
  }
}

async function insertBuild(projectId: string, values: Partial<typeof builds.$inferInsert> = {}) {
  const [row] = await db
    .insert(builds)
    .values({
      projectId,
      number: 1,
      commitSha: newSha(),
      branch: 'feature',
      trigger: 'push',
      target: 'preview',
      ...values,
    })
    .returning();
  return row!;
}

describe('build commit statuses through a real build', () => {
  it('GitHub: pending when queued, running when a runner takes it, success when it ends', async () => {
    const forge = fakeForge({ app: APP });
    routeForgeTraffic(forge);
    const { owner, workspace, project, repo } = await reportingProject('github');
    const runner = await registerRunner(owner.access_token, workspace.id);
    const sha = newSha();

    const build = await trigger(owner.access_token, project.id, {
      branch: 'main',
      commit_sha: sha,
    });
    await until(forge, sha, /is waiting for a runner/);

    const socket = await onlineRunner(runner.runner_token);
    const job = await socket.next('job');
    await until(forge, sha, /is running/);

    const done = await completeJob(build.id, job.job_token, { status: 'succeeded' });
    expect(done.status).toBe(200);
    const statuses = await until(forge, sha, /succeeded/);

    expect(described(statuses)).toEqual([
      `pending: Build #${build.number} is waiting for a runner`,
      `pending: Build #${build.number} is running`,
      expect.stringMatching(new RegExp(`^success: Build #${build.number} succeeded in \\d+ s$`)),
    ]);
    for (const status of statuses) {
      expect(status.repo).toBe(repo);
      expect(status.targetUrl).toBe(`${env.PUBLIC_URL}/api/builds/${build.id}/logs.txt`);
    }
    socket.ws.close();
  });

  it('GitHub: a failed build reports failure with its reason', async () => {
    const forge = fakeForge({ app: APP });
    routeForgeTraffic(forge);
    const { owner, workspace, project } = await reportingProject('github');
    const runner = await registerRunner(owner.access_token, workspace.id);
    const socket = await onlineRunner(runner.runner_token);
    const sha = newSha();
    const build = await trigger(owner.access_token, project.id, {
      branch: 'main',
      commit_sha: sha,
    });
    const job = await socket.next('job');

    const done = await completeJob(build.id, job.job_token, {
      status: 'failed',
      error: 'step "build" exited with 1\n(npm run build)',
    });
    expect(done.status).toBe(200);
    const statuses = await until(forge, sha, /failed/);
    expect(described(statuses).at(-1)).toBe(
      `failure: Build #${build.number} failed: step "build" exited with 1 (npm run build)`,
    );
    socket.ws.close();
  });

  it('a runner that vanishes puts the status back to waiting', async () => {
    const forge = fakeForge({ app: APP });
    routeForgeTraffic(forge);
    const { owner, workspace, project } = await reportingProject('github');
    const runner = await registerRunner(owner.access_token, workspace.id);
    const socket = await onlineRunner(runner.runner_token);
    const sha = newSha();
    const build = await trigger(owner.access_token, project.id, {
      branch: 'main',
      commit_sha: sha,
    });
    await socket.next('job');
    await until(forge, sha, /is running/);

    socket.ws.close(1011, 'crashed');
    const statuses = await eventually(
      async () => buildStatuses(forge, sha),
      (list) => list.length >= 2 && /waiting/.test(list.at(-1)!.description),
    );
    expect(described(statuses).at(-1)).toBe(
      `pending: Build #${build.number} is waiting for a runner`,
    );
  });

  it('GitLab: canceling a waiting build reports canceled', async () => {
    const forge = fakeForge();
    routeForgeTraffic(forge);
    const { owner, project, repo } = await reportingProject('gitlab');
    const sha = newSha();
    const build = await trigger(owner.access_token, project.id, {
      branch: 'main',
      commit_sha: sha,
    });
    await until(forge, sha, /waiting/);

    const canceled = await as(owner).post(`/api/builds/${build.id}/cancel`);
    expect(canceled.status).toBe(200);
    const statuses = await until(forge, sha, /canceled/);
    expect(described(statuses).at(-1)).toBe(
      `canceled: Build #${build.number} was canceled: canceled on request`,
    );
    expect(statuses.at(-1)).toMatchObject({ provider: 'gitlab', repo });
  });

  it('a superseded build is reported canceled, the new one pending', async () => {
    const forge = fakeForge({ app: APP });
    routeForgeTraffic(forge);
    const { owner, project } = await reportingProject('github');
    const [first, second] = [newSha(), newSha()];
    const older = await trigger(owner.access_token, project.id, {
      branch: 'main',
      commit_sha: first,
    });
    const newer = await trigger(owner.access_token, project.id, {
      branch: 'main',
      commit_sha: second,
    });
    const statuses = await until(forge, first, /canceled/);
    expect(described(statuses).at(-1)).toBe(
      `error: Build #${older.number} was canceled: superseded by #${newer.number}`,
    );
    await until(forge, second, /waiting/);
  });

  it('a build of a branch head (no commit yet) reports nothing', async () => {
    const forge = fakeForge({ app: APP });
    routeForgeTraffic(forge);
    const { owner, project, repo } = await reportingProject('github');
    const build = await trigger(owner.access_token, project.id, { branch: 'main' });
    await deliverStatus(build.id, forge.fetch);
    await eventually(
      () => buildStatus(db, build.id),
      (status) => status !== 'queued',
    );
    expect(forge.seen.filter((request) => request.url.pathname.includes(repo))).toEqual([]);
  });

  it('a provider that is down never fails or holds up the build', async () => {
    const forge = fakeForge({ app: APP, fail: () => 503 });
    routeForgeTraffic(forge);
    const { owner, workspace, project } = await reportingProject('github');
    const runner = await registerRunner(owner.access_token, workspace.id);
    const socket = await onlineRunner(runner.runner_token);
    const build = await trigger(owner.access_token, project.id, {
      branch: 'main',
      commit_sha: newSha(),
    });
    const job = await socket.next('job');
    const done = await completeJob(build.id, job.job_token, { status: 'succeeded' });
    expect(await done.json()).toEqual({ status: 'succeeded' });
    expect(await buildStatus(db, build.id)).toBe('succeeded');
    // The consumer tried (and was refused) without the message being retried.
    await eventually(
      async () => forge.seen.length,
      (count) => count > 0,
    );
    socket.ws.close();
  });
});

describe('the build.status consumer', () => {
  it('reports the current status whatever change the message announced', async () => {
    const forge = fakeForge();
    const { project, repo } = await reportingProject('gitea');
    const startedAt = new Date(Date.now() - 125_000);
    const build = await insertBuild(project.id, {
      number: 7,
      status: 'succeeded',
      startedAt,
      finishedAt: new Date(startedAt.getTime() + 125_000),
    });
    // A stale message (sent when the build was queued) and a redelivery both report success.
    await deliverStatus(build.id, forge.fetch);
    await deliverStatus(build.id, forge.fetch);
    expect(forge.statuses).toEqual([
      {
        provider: 'gitea',
        repo,
        sha: build.commitSha,
        state: 'success',
        context: 'sparki/build',
        description: 'Build #7 succeeded in 2 min 5 s',
        targetUrl: `${env.PUBLIC_URL}/api/builds/${build.id}/logs.txt`,
      },
      expect.objectContaining({ state: 'success' }),
    ]);
  });

  it('maps each provider’s own states', async () => {
    const cases: [Provider, string, string][] = [
      ['github', 'running', 'pending'],
      ['github', 'timed_out', 'failure'],
      ['github', 'canceled', 'error'],
      ['gitlab', 'running', 'running'],
      ['gitlab', 'failed', 'failed'],
      ['gitlab', 'canceled', 'canceled'],
      ['gitea', 'planned', 'pending'],
      ['gitea', 'failed', 'failure'],
      ['gitea', 'canceled', 'warning'],
    ];
    for (const [provider, status, expected] of cases) {
      const forge = fakeForge({ app: APP });
      const { project } = await reportingProject(provider);
      const build = await insertBuild(project.id, {
        status: status as (typeof builds.$inferInsert)['status'],
      });
      await deliverStatus(build.id, forge.fetch);
      expect([provider, status, forge.statuses.map((s) => s.state)]).toEqual([
        provider,
        status,
        [expected],
      ]);
    }
  });

  it('follows a change that happens while it reports, so the last word is the latest state', async () => {
    let build: Awaited<ReturnType<typeof insertBuild>> | undefined;
    let changed = false;
    const forge = fakeForge({
      app: APP,
      // The runner takes the build while the forge is still storing "waiting".
      onStatus: async () => {
        if (changed) return;
        changed = true;
        await db
          .update(builds)
          .set({ status: 'running', attempt: 1, startedAt: new Date() })
          .where(eq(builds.id, build!.id));
      },
    });
    const { project } = await reportingProject('github');
    build = await insertBuild(project.id, { number: 3, status: 'queued' });
    await deliverStatus(build.id, forge.fetch);
    expect(described(forge.statuses)).toEqual([
      'pending: Build #3 is waiting for a runner',
      'pending: Build #3 is running',
    ]);
  });

  it('sends nothing for a project without reporting credentials or a build that is gone', async () => {
    const forge = fakeForge({ app: APP });
    const { project } = await projectFixture({ provider: 'github' });
    const build = await insertBuild(project.id, { status: 'running', attempt: 1 });
    await deliverStatus(build.id, forge.fetch);
    await deliverStatus(crypto.randomUUID(), forge.fetch);
    expect(forge.seen).toEqual([]);
  });

  it('logs, and never throws, whatever the provider answers', async () => {
    const failures: [string, Parameters<typeof fakeForge>[0]][] = [
      ['a refused installation token', { app: { ...APP, id: '999' } }],
      [
        'a refused status',
        { app: APP, fail: (r) => (r.url.pathname.includes('/statuses/') ? 422 : undefined) },
      ],
      ['a provider that is down', { app: APP, fail: () => 500 }],
    ];
    for (const [what, options] of failures) {
      const forge = fakeForge(options);
      const { project } = await reportingProject('github');
      const build = await insertBuild(project.id, { status: 'running', attempt: 1 });
      const { logger, events } = capturingLogger();
      await deliverStatus(build.id, forge.fetch, logger);
      expect([what, events()]).toEqual([what, ['commit_status_failed']]);
    }
    const { project } = await reportingProject('github');
    const build = await insertBuild(project.id, { status: 'running', attempt: 1 });
    const { logger, events } = capturingLogger();
    await deliverStatus(
      build.id,
      async () => {
        throw new TypeError('Network connection lost.');
      },
      logger,
    );
    expect(events()).toEqual(['commit_status_failed']);
  });

  it('acks the message when the provider fails, through the queue handler', async () => {
    const forge = fakeForge({ app: APP, fail: () => 500 });
    routeForgeTraffic(forge);
    const { project } = await reportingProject('github');
    const build = await insertBuild(project.id, { status: 'failed', error: 'boom' });
    const batch = createMessageBatch('sparki-builds', [
      {
        id: `msg-${crypto.randomUUID()}`,
        timestamp: new Date(),
        attempts: 1,
        body: { type: 'build.status', buildId: build.id },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(forge.seen.length).toBeGreaterThan(0);
  });
});

describe('durations in descriptions', () => {
  it('reads as seconds, minutes and hours', () => {
    expect(formatDuration(41_400)).toBe('41 s');
    expect(formatDuration(120_000)).toBe('2 min');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(3_780_000)).toBe('1 h 3 min');
    expect(formatDuration(7_200_000)).toBe('2 h');
    expect(formatDuration(-5)).toBe('0 s');
  });
});
