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
import { authed, newUser, postJson } from './auth-helpers';
import { eventually, fetchWorker, testDb } from './harness';
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
  const response = await fetchWorker(`/api/workspaces/${workspaceId}/runners`, authed(token));
  expect(response.status).toBe(200);
  return (await response.json<{ runners: RunnerView[] }>()).runners;
}

function patchRunner(token: string, runnerId: string, body: unknown) {
  return fetchWorker(
    `/api/runners/${runnerId}`,
    authed(token, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
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

    const listed = await fetchWorker(
      `/api/workspaces/${workspace.id}/runner-registration-tokens`,
      authed(owner.access_token),
    );
    const body = await listed.text();
    expect(body).toContain(minted.id);
    expect(body).not.toContain(minted.token);

    const developer = await memberOf(workspace.id, 'developer');
    const denied = await postJson(
      `/api/workspaces/${workspace.id}/runner-registration-tokens`,
      {},
      { authorization: `Bearer ${developer.access_token}` },
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
    const { runner_id, runner_token } = await response.json<{
      runner_id: string;
      runner_token: string;
    }>();
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
    const revoke = await fetchWorker(
      `/api/workspaces/${workspace.id}/runner-registration-tokens/${revoked.id}`,
      authed(owner.access_token, { method: 'DELETE' }),
    );
    expect(revoke.status).toBe(204);
    const refused = await register(revoked.token);
    expect(refused.status).toBe(401);
    expect((await refused.json<{ error: { code: string } }>()).error.code).toBe('unauthorized');
  });

  it('rate limits failed exchanges per client address', async () => {
    const ip = `10.9.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`;
    const { limit } = AUTH_RATE_LIMITS.runner_register.ip;
    const attempt = () =>
      postJson(
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
    const after = await eventually(
      () => listRunners(viewer.access_token, workspace.id),
      ([runner]) => runner?.status === 'offline',
    );
    expect(after[0]!.status).toBe('offline');

    const stranger = await newUser('stranger');
    const hidden = await fetchWorker(
      `/api/workspaces/${workspace.id}/runners`,
      authed(stranger.access_token),
    );
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
      (await patchRunner(developer.access_token, first.runner_id, { disabled: true })).status,
    ).toBe(403);

    const second = await registerRunner(owner.access_token, workspace.id);
    const standby = await onlineRunner(second.runner_token);
    const disabled = await patchRunner(owner.access_token, first.runner_id, { disabled: true });
    expect(disabled.status).toBe(200);
    expect((await disabled.json<RunnerView>()).status).toBe('disabled');
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
      (await patchRunner(owner.access_token, first.runner_id, { disabled: false })).status,
    ).toBe(200);
    const back = await connect(first.runner_token);
    expect(back.status).toBe(101);
    new RunnerSocket(back.webSocket!).ws.close(1000, 'done');
  });

  it('deleting a runner makes its token worthless', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const { runner_id, runner_token } = await registerRunner(owner.access_token, workspace.id);
    const deleted = await fetchWorker(
      `/api/runners/${runner_id}`,
      authed(owner.access_token, { method: 'DELETE' }),
    );
    expect(deleted.status).toBe(204);
    expect((await connect(runner_token)).status).toBe(401);
    expect(await listRunners(owner.access_token, workspace.id)).toEqual([]);
  });

  it('refuses connections without a runner token or without an upgrade', async () => {
    const { owner, workspace } = await ownerWithWorkspace();
    const { runner_token } = await registerRunner(owner.access_token, workspace.id);
    expect((await connect(`${RUNNER_TOKEN_PREFIX}unknown`)).status).toBe(401);
    expect((await connect(owner.access_token)).status).toBe(401);
    expect((await fetchWorker('/api/runners/connect', authed(runner_token))).status).toBe(426);
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
