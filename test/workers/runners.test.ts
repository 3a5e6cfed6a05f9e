import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/digest';
import { AUTH_RATE_LIMITS } from '../../core/rate-limits';
import {
  REGISTRATION_TOKEN_PREFIX,
  RUNNER_PROTOCOL_VERSION,
  RUNNER_TOKEN_PREFIX,
} from '../../core/runner-protocol';
import { auditLogs, memberships, runnerRegistrationTokens, runners, users } from '../../db/schema';
import { anonymous, as, type ErrorEnvelope } from './api-client';
import { newUser } from './auth-helpers';
import { eventually, testDb } from './harness';
import {
  connect,
  mintRegistrationToken,
  onlineRunner,
  ownerWithWorkspace,
  planBuild,
  queuedBuild,
  RunnerSocket,
  register,
  registerRunner,
} from './runner-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface RunnerView {
  id: string;
  name: string;
  labels: string[];
  capacity: number;
  status: string;
  last_seen_at: string | null;
  version: string | null;
}

async function memberOf(workspaceId: string, role: 'viewer' | 'developer' | 'admin') {
  const user = await newUser(role);
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.email, user.email));
  await db.insert(memberships).values({ workspaceId, userId: row!.id, role });
  return user;
}

async function listRunners(token: string, workspaceId: string) {
  const response = await as(token).get<{ runners: RunnerView[] }>(
    `/api/workspaces/${workspaceId}/runners`,
  );
  expect(response.status).toBe(200);
  return response.body.runners;
}

describe('runner registration', () => {
  it('mints a registration token for admins only, shown once and stored hashed', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const minted = await mintRegistrationToken(owner.access_token, workspace.id);
    expect(minted.token.startsWith(REGISTRATION_TOKEN_PREFIX)).toBe(true);
    const hoursLeft = (Date.parse(minted.expires_at) - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(23.9);
    expect(hoursLeft).toBeLessThanOrEqual(24);
    const [row] = await db
      .select()
      .from(runnerRegistrationTokens)
      .where(eq(runnerRegistrationTokens.id, minted.id));
    expect(row!.tokenHash).toBe(await sha256Hex(minted.token));

    const listed = await as(owner).get(
      `/api/workspaces/${workspace.id}/runner-registration-tokens`,
    );
    const body = listed.text;
    expect(body).toContain(minted.id);
    expect(body).not.toContain(minted.token);

    const developer = await memberOf(workspace.id, 'developer');
    const denied = await as(developer).post(
      `/api/workspaces/${workspace.id}/runner-registration-tokens`,
      {},
    );
    expect(denied.status).toBe(403);
  });

  it('exchanges a registration token for a runner token, stored hashed and audited', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const { token } = await mintRegistrationToken(owner.access_token, workspace.id);
    const response = await register(token, {
      name: 'builder-1',
      labels: ['linux', 'x64'],
      capacity: 2,
      version: '0.1.0',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { runner_id, runner_token } = response.body;
    expect(runner_token.startsWith(RUNNER_TOKEN_PREFIX)).toBe(true);
    const [row] = await db.select().from(runners).where(eq(runners.id, runner_id));
    expect(row).toMatchObject({
      workspaceId: workspace.id,
      name: 'builder-1',
      labels: ['linux', 'x64'],
      capacity: 2,
      version: '0.1.0',
      tokenHash: await sha256Hex(runner_token),
    });
    const audits = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'runner.registered'), eq(auditLogs.targetId, runner_id)));
    expect(audits).toHaveLength(1);
    expect(JSON.stringify(audits)).not.toContain(runner_token);
    // The same token registers further runners until it expires or is revoked.
    expect((await register(token)).status).toBe(201);
  });

  it('refuses an unknown, expired or revoked registration token with 401', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    expect((await register(`${REGISTRATION_TOKEN_PREFIX}nope`)).status).toBe(401);

    const expired = await mintRegistrationToken(owner.access_token, workspace.id);
    await db
      .update(runnerRegistrationTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(runnerRegistrationTokens.id, expired.id));
    expect((await register(expired.token)).status).toBe(401);

    const revoked = await mintRegistrationToken(owner.access_token, workspace.id);
    const revoke = await as(owner).delete(
      `/api/workspaces/${workspace.id}/runner-registration-tokens/${revoked.id}`,
    );
    expect(revoke.status).toBe(204);
    const refused = await register<ErrorEnvelope>(revoked.token);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthorized');
  });

  it('rate limits failed exchanges per client address', async () => {
    const ip = `10.9.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`;
    const { limit } = AUTH_RATE_LIMITS.runner_register.ip;
    const attempt = () =>
      anonymous.post(
        '/api/runners/register',
        { registration_token: `${REGISTRATION_TOKEN_PREFIX}guess`, name: 'x' },
        { 'cf-connecting-ip': ip },
      );
    for (let i = 0; i < limit; i++) expect((await attempt()).status).toBe(401);
    const limited = await attempt();
    expect(limited.status).toBe(429);
  });
});

describe('runner list, disable and delete', () => {
  it('lists runners for viewers with their state and last contact', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const { runner_id, runner_token } = await registerRunner(owner.access_token, workspace.id, {
      name: 'alpha',
      labels: ['linux'],
      capacity: 3,
    });
    const viewer = await memberOf(workspace.id, 'viewer');
    const [offline] = await listRunners(viewer.access_token, workspace.id);
    expect(offline).toMatchObject({
      id: runner_id,
      name: 'alpha',
      labels: ['linux'],
      capacity: 3,
      status: 'offline',
      last_seen_at: null,
    });

    const socket = await onlineRunner(runner_token);
    const [online] = await listRunners(viewer.access_token, workspace.id);
    expect(online!.status).toBe('online');
    expect(online!.last_seen_at).not.toBeNull();

    socket.ws.close(1000, 'bye');
    // The hub answers the close, so the runner's socket closes now, not after its own timeout.
    expect(await socket.closedWith()).toMatchObject({ code: 1000 });
    const after = await eventually(
      () => listRunners(viewer.access_token, workspace.id),
      ([runner]) => runner?.status === 'offline',
    );
    expect(after[0]!.status).toBe('offline');

    const stranger = await newUser('stranger');
    const hidden = await as(stranger).get(`/api/workspaces/${workspace.id}/runners`);
    expect(hidden.status).toBe(404);
  });

  it('disabling closes the connection, hands its job to another runner and refuses reconnects', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const first = await registerRunner(owner.access_token, workspace.id);
    const socket = await onlineRunner(first.runner_token);
    const { build } = await queuedBuild(db, workspace.id);
    await planBuild(build.id);
    await socket.next('job');

    const developer = await memberOf(workspace.id, 'developer');
    expect(
      (await as(developer).patch(`/api/runners/${first.runner_id}`, { disabled: true })).status,
    ).toBe(403);

    const second = await registerRunner(owner.access_token, workspace.id);
    const standby = await onlineRunner(second.runner_token);
    const disabled = await as(owner).patch<RunnerView>(`/api/runners/${first.runner_id}`, {
      disabled: true,
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    expect((await socket.closedWith())?.code).toBe(4003);
    // Handing the job on is the administrator's doing, not a loss: attempt 2, nothing counted.
    expect(await standby.next('job')).toMatchObject({ build_id: build.id, attempt: 2 });

    const refused = await connect(first.runner_token);
    expect(refused.status).toBe(403);
    const [audit] = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'runner.disabled'), eq(auditLogs.targetId, first.runner_id)));
    expect(audit).toBeDefined();

    expect(
      (await as(owner).patch(`/api/runners/${first.runner_id}`, { disabled: false })).status,
    ).toBe(200);
    const back = await connect(first.runner_token);
    expect(back.status).toBe(101);
    new RunnerSocket(back.webSocket!).ws.close(1000, 'done');
  });

  it('deleting a runner makes its token worthless', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const { runner_id, runner_token } = await registerRunner(owner.access_token, workspace.id);
    const deleted = await as(owner).delete(`/api/runners/${runner_id}`);
    expect(deleted.status).toBe(204);
    expect((await connect(runner_token)).status).toBe(401);
    expect(await listRunners(owner.access_token, workspace.id)).toEqual([]);
  });

  it('refuses connections without a runner token or without an upgrade', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const { runner_token } = await registerRunner(owner.access_token, workspace.id);
    expect((await connect(`${RUNNER_TOKEN_PREFIX}unknown`)).status).toBe(401);
    expect((await connect(owner.access_token)).status).toBe(401);
    expect((await as(runner_token).get('/api/runners/connect')).status).toBe(426);
  });

  it('closes a socket that speaks another protocol version', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const { runner_token } = await registerRunner(owner.access_token, workspace.id);
    const response = await connect(runner_token);
    const socket = new RunnerSocket(response.webSocket!);
    socket.ws.send(JSON.stringify({ type: 'hello', version: RUNNER_PROTOCOL_VERSION + 1 }));
    expect((await socket.next('error')).message).toMatch(/Unrecognised/);
    expect((await socket.closedWith())?.code).toBe(1008);
  });
});
