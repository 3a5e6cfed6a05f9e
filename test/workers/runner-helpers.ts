import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { expect } from 'vitest';
import {
  type HubMessage,
  HubMessageSchema,
  RUNNER_PROTOCOL_VERSION,
  type RunnerMessage,
} from '../../core/runner-protocol';
import type { Database } from '../../db/client';
import { builds, projects } from '../../db/schema';
import worker from '../../workers/index';
import { anonymous, as } from './api-client';
import { authed, createWorkspace, newUser } from './auth-helpers';
import { fetchWorker } from './harness';

/** A signed-in owner and a workspace of their own. */
export async function ownerWithWorkspace() {
  const owner = await newUser('runner-owner');
  const workspace = await createWorkspace(owner.access_token);
  return { owner, workspace };
}

export async function mintRegistrationToken(
  accessToken: string,
  workspaceId: string,
  body: Record<string, unknown> = {},
) {
  const response = await as(accessToken).post<{ id: string; token: string; expires_at: string }>(
    `/api/workspaces/${workspaceId}/runner-registration-tokens`,
    body,
  );
  expect(response.status, response.text).toBe(201);
  return response.body;
}

export interface RegisteredRunner {
  runner_id: string;
  runner_token: string;
}

export function register<T = RegisteredRunner>(
  registrationToken: string,
  runner: Record<string, unknown> = {},
) {
  return anonymous.post<T>('/api/runners/register', {
    registration_token: registrationToken,
    name: `runner-${crypto.randomUUID().slice(0, 6)}`,
    ...runner,
  });
}

export async function registerRunner(
  accessToken: string,
  workspaceId: string,
  runner: Record<string, unknown> = {},
) {
  const { token } = await mintRegistrationToken(accessToken, workspaceId);
  const response = await register(token, runner);
  expect(response.status, response.text).toBe(201);
  return response.body;
}

export function connect(runnerToken: string) {
  return fetchWorker(
    '/api/runners/connect',
    authed(runnerToken, { headers: { upgrade: 'websocket' } }),
  );
}

type Of<T extends HubMessage['type']> = Extract<HubMessage, { type: T }>;

/** The test's end of a runner's socket: hub messages queue up until a test takes them. */
export class RunnerSocket {
  private readonly inbox: HubMessage[] = [];
  private waiting: (() => void) | undefined;
  closed: { code: number; reason: string } | undefined;

  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener('message', (event) => {
      this.inbox.push(HubMessageSchema.parse(JSON.parse(String(event.data))));
      this.waiting?.();
    });
    ws.addEventListener('close', (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.waiting?.();
    });
  }

  send(message: RunnerMessage) {
    this.ws.send(JSON.stringify(message));
  }

  /** The next hub message, which must be of `type`. */
  async next<T extends HubMessage['type']>(type: T, timeoutMs = 5_000): Promise<Of<T>> {
    const message = await this.nextAny(timeoutMs, type);
    expect(message.type).toBe(type);
    return message as Of<T>;
  }

  /** The next hub message, whatever its type (`awaited` names it in a timeout's message). */
  async nextAny(timeoutMs = 5_000, awaited = 'any'): Promise<HubMessage> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      if (this.closed)
        throw new Error(`Socket closed (${this.closed.code}) waiting for ${awaited}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`No ${awaited} message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, left);
      });
    }
    return this.inbox.shift()!;
  }

  /**
   * Asserts the hub has sent nothing this socket has not taken yet, without waiting on a clock:
   * the hub answers a heartbeat for a build this runner holds no lease for with `cancel`, and a
   * socket delivers in order, so anything sent before that answer is taken first and fails here.
   */
  async expectNothingSent(): Promise<void> {
    const probe = crypto.randomUUID();
    this.send({ type: 'heartbeat', running: [probe] });
    expect(await this.next('cancel')).toMatchObject({ build_id: probe });
  }

  async closedWith(timeoutMs = 5_000) {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.closed;
  }
}

/** Connects, says hello and waits for the welcome. */
export async function onlineRunner(runnerToken: string, running: string[] = []) {
  const response = await connect(runnerToken);
  expect(response.status, response.status === 101 ? '' : await response.text()).toBe(101);
  const socket = new RunnerSocket(response.webSocket!);
  socket.send({ type: 'hello', version: RUNNER_PROTOCOL_VERSION, running });
  await socket.next('welcome');
  return socket;
}

/** A project with a repository and one queued build in the workspace. */
export async function queuedBuild(
  db: Database,
  workspaceId: string,
  values: Partial<typeof builds.$inferInsert> = {},
) {
  const [project] = await db
    .insert(projects)
    .values({
      workspaceId,
      name: 'site',
      slug: `site-${crypto.randomUUID().slice(0, 8)}`,
      gitProvider: 'github',
      repoUrl: 'https://github.com/acme/site.git',
      rootDir: 'apps/web',
    })
    .returning();
  const [build] = await db
    .insert(builds)
    .values({
      projectId: project!.id,
      number: 1,
      commitSha: 'c'.repeat(40),
      branch: 'main',
      trigger: 'push',
      target: 'production',
      ...values,
    })
    .returning();
  return { project: project!, build: build! };
}

/**
 * A running build held by a connected runner, with `post` for its job API; `commitSha: null`
 * builds a branch head.
 */
export async function leasedJob(db: Database, values: Partial<typeof builds.$inferInsert>) {
  const { owner, workspace } = await ownerWithWorkspace();
  const runner = await registerRunner(owner.access_token, workspace.id);
  const socket = await onlineRunner(runner.runner_token);
  const { build, project } = await queuedBuild(db, workspace.id, values);
  await planBuild(build.id);
  const job = await socket.next('job');
  const post = (path: string, body: unknown, token = job.job_token) =>
    as(token).post(`/api/jobs/${build.id}${path}`, body);
  return { build, project, token: job.job_token, post, owner: as(owner) };
}

/** Runs the sparki-builds consumer on a build.requested message, as the queue would. */
export async function planBuild(buildId: string, traceparent?: string) {
  const batch = createMessageBatch('sparki-builds', [
    {
      id: `msg-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 1,
      body: { type: 'build.requested', buildId, ...(traceparent ? { traceparent } : {}) },
    },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  expect(result.retryMessages).toEqual([]);
}
