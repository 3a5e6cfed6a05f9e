import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_RATE_LIMITS } from '../../core/rate-limits';
import { auditLogs, deviceGrants } from '../../db/schema';
import { anonymous, as, type ErrorEnvelope, seedTeam, type Team } from './api-client';
import { postJson } from './auth-helpers';
import { testDb } from './harness';
import { expectRateLimited, freshIp, roomInWindow } from './rate-limit-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface DeviceCode {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

interface DeviceToken {
  access_token: string;
  token_type: string;
  token_id: string;
  workspace_id: string;
  scope: string;
}

async function start(clientName = 'sparki CLI on test-host'): Promise<DeviceCode> {
  const response = await anonymous.post<DeviceCode>('/api/auth/device/code', {
    client_name: clientName,
  });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

function poll(deviceCode: string) {
  return anonymous.post<DeviceToken & ErrorEnvelope>('/api/auth/device/token', {
    device_code: deviceCode,
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
  });
}

/** As if the device had waited its interval since its last poll (no sleeping in tests). */
async function waitedInterval(userCode: string) {
  await db
    .update(deviceGrants)
    .set({ lastPolledAt: null })
    .where(eq(deviceGrants.userCode, userCode));
}

async function pollAfterWaiting(code: DeviceCode) {
  await waitedInterval(code.user_code);
  return poll(code.device_code);
}

describe('device sign-in (RFC 8628)', () => {
  let team: Team;
  beforeAll(async () => {
    team = await seedTeam();
  });

  it('hands out a device code and a user code to type at the verification URI', async () => {
    const code = await start();
    expect(code.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(code.device_code).toMatch(/^spk_dev_/);
    expect(code.verification_uri).toMatch(/\/device$/);
    expect(code.verification_uri_complete).toBe(
      `${code.verification_uri}?user_code=${code.user_code}`,
    );
    expect(code.expires_in).toBeGreaterThanOrEqual(600);
    expect(code.expires_in).toBeLessThanOrEqual(900);
    expect(code.interval).toBe(5);
    const [row] = await db
      .select()
      .from(deviceGrants)
      .where(eq(deviceGrants.userCode, code.user_code));
    expect(row?.deviceCodeHash).not.toContain(code.device_code);
  });

  it('answers authorization_pending until approved, then slow_down to a device polling too fast', async () => {
    const code = await start();
    const pending = await poll(code.device_code);
    expect(pending.status, pending.text).toBe(400);
    expect(pending.body.error.code).toBe('authorization_pending');
    expect(pending.body.request_id).toBeTruthy();

    const fast = await poll(code.device_code);
    expect(fast.status).toBe(400);
    expect(fast.body.error.code).toBe('slow_down');
    expect(fast.body.error.details).toEqual({ interval: 10 });
    const faster = await poll(code.device_code);
    expect(faster.body.error.details).toEqual({ interval: 15 });

    const later = await pollAfterWaiting(code);
    expect(later.body.error.code).toBe('authorization_pending');
  });

  it('shows the dashboard what asks, then gives the device a working token once approved', async () => {
    const code = await start('sparki CLI on build-box');
    const shown = await as(team.developer).get<{ client_name: string; user_code: string }>(
      `/api/auth/device/${code.user_code.toLowerCase().replace('-', ' ')}`,
    );
    expect(shown.status, shown.text).toBe(200);
    expect(shown.body).toMatchObject({
      client_name: 'sparki CLI on build-box',
      user_code: code.user_code,
    });

    const approved = await as(team.developer).post(`/api/auth/device/${code.user_code}/approve`, {
      workspace_id: team.workspace.id,
      scope: 'write',
    });
    expect(approved.status, approved.text).toBe(204);

    const granted = await pollAfterWaiting(code);
    expect(granted.status, granted.text).toBe(200);
    expect(granted.headers.get('cache-control')).toBe('no-store');
    expect(granted.body).toMatchObject({
      token_type: 'Bearer',
      workspace_id: team.workspace.id,
      scope: 'write',
    });
    const token = granted.body.access_token;
    expect(token).toMatch(/^spk_pat_/);

    const me = await as(token).get<{ email: string }>('/api/me');
    expect(me.status, me.text).toBe(200);
    expect(me.body.email).toBe(team.developer.email);

    const listed = await as(team.developer).get<{ tokens: { id: string; name: string }[] }>(
      '/api/me/tokens',
    );
    expect(listed.body.tokens).toContainEqual(
      expect.objectContaining({ id: granted.body.token_id, name: 'sparki CLI on build-box' }),
    );

    const audit = await db
      .select()
      .from(auditLogs)
      .where(
        and(
          eq(auditLogs.action, 'device_grant.approved'),
          eq(auditLogs.actorId, team.developer.id),
        ),
      );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ workspaceId: team.workspace.id, targetType: 'device_grant' });

    // Single use: the code gives one token, and cannot be approved again.
    const again = await pollAfterWaiting(code);
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('invalid_grant');
    const reapproved = await as(team.developer).post<ErrorEnvelope>(
      `/api/auth/device/${code.user_code}/approve`,
      { workspace_id: team.workspace.id },
    );
    expect(reapproved.status).toBe(404);
    const reshown = await as(team.developer).get(`/api/auth/device/${code.user_code}`);
    expect(reshown.status).toBe(404);

    // `sparki logout`: the token revokes itself and is refused from then on.
    const revoked = await as(token).delete('/api/auth/token');
    expect(revoked.status, revoked.text).toBe(204);
    expect((await as(token).get('/api/me')).status).toBe(401);
  });

  it('answers access_denied once the user denies the code', async () => {
    const code = await start();
    const denied = await as(team.owner).post(`/api/auth/device/${code.user_code}/deny`);
    expect(denied.status, denied.text).toBe(204);
    const answer = await pollAfterWaiting(code);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('access_denied');
    const approveAfter = await as(team.owner).post(`/api/auth/device/${code.user_code}/approve`, {
      workspace_id: team.workspace.id,
    });
    expect(approveAfter.status).toBe(404);
  });

  it('answers expired_token once the code has expired, and the dashboard no longer finds it', async () => {
    const code = await start();
    await db
      .update(deviceGrants)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(deviceGrants.userCode, code.user_code));
    const answer = await pollAfterWaiting(code);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('expired_token');
    const shown = await as(team.owner).get<ErrorEnvelope>(`/api/auth/device/${code.user_code}`);
    expect(shown.status).toBe(404);
    const approve = await as(team.owner).post(`/api/auth/device/${code.user_code}/approve`, {
      workspace_id: team.workspace.id,
    });
    expect(approve.status).toBe(404);
  });

  it('answers invalid_grant to an unknown device code, 400 to a missing one', async () => {
    const unknown = await poll('spk_dev_nothing');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('invalid_grant');
    const missing = await anonymous.post<ErrorEnvelope>('/api/auth/device/token', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('validation_failed');
  });

  it('needs a signed-in session to see, approve or deny a code', async () => {
    const code = await start();
    expect((await anonymous.get(`/api/auth/device/${code.user_code}`)).status).toBe(401);
    const anonApprove = await anonymous.post(`/api/auth/device/${code.user_code}/approve`, {
      workspace_id: team.workspace.id,
    });
    expect(anonApprove.status).toBe(401);
    expect((await anonymous.post(`/api/auth/device/${code.user_code}/deny`)).status).toBe(401);
    expect((await anonymous.delete('/api/auth/token')).status).toBe(401);
    // A session has nothing to revoke here; sessions end through /api/auth/logout.
    expect((await as(team.owner).delete('/api/auth/token')).status).toBe(400);
  });

  it('404s unknown codes and foreign workspaces, 403s a scope above the role', async () => {
    const code = await start();
    const unknown = await as(team.owner).get<ErrorEnvelope>('/api/auth/device/BCDF-GHJK');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/No pending sign-in request/);
    expect((await as(team.owner).get('/api/auth/device/not-a-code')).status).toBe(404);

    const foreign = await as(team.outsider).post<ErrorEnvelope>(
      `/api/auth/device/${code.user_code}/approve`,
      { workspace_id: team.workspace.id },
    );
    expect(foreign.status).toBe(404);
    const tooHigh = await as(team.viewer).post<ErrorEnvelope>(
      `/api/auth/device/${code.user_code}/approve`,
      { workspace_id: team.workspace.id, scope: 'write' },
    );
    expect(tooHigh.status).toBe(403);
    const invalid = await as(team.viewer).post<ErrorEnvelope>(
      `/api/auth/device/${code.user_code}/approve`,
      { workspace_id: 'nope' },
    );
    expect(invalid.status).toBe(400);
    // None of these decided anything: the code still waits.
    expect((await as(team.viewer).get(`/api/auth/device/${code.user_code}`)).status).toBe(200);
    const pending = await poll(code.device_code);
    expect(pending.body.error.code).toBe('authorization_pending');
  });

  it('refuses an API token as the approver: approving needs a signed-in session', async () => {
    const code = await start();
    const minted = await as(team.owner).post<{ token: string }>('/api/me/tokens', {
      name: 'script',
      workspace_id: team.workspace.id,
      scope: 'admin',
    });
    expect(minted.status, minted.text).toBe(201);
    const approve = await as(minted.body.token).post(`/api/auth/device/${code.user_code}/approve`, {
      workspace_id: team.workspace.id,
    });
    expect(approve.status).toBe(403);
  });

  it('limits how many codes one address can ask for', { timeout: 60_000 }, async () => {
    const ip = freshIp();
    const { limit, windowSeconds } = AUTH_RATE_LIMITS.device_code.ip;
    await roomInWindow(windowSeconds);
    const ask = (from: string) =>
      postJson('/api/auth/device/code', {}, { 'cf-connecting-ip': from });
    for (let i = 0; i < limit; i++) expect((await ask(ip)).status).toBe(200);
    await expectRateLimited(await ask(ip), 'device_code:ip', limit);
    expect((await ask(freshIp())).status).toBe(200);
  });
});
