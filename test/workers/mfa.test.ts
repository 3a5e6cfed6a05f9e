import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLogs, mfaChallenges, recoveryCodes, users } from '../../db/schema';
import { authed, newUser, PASSWORD, postJson } from './auth-helpers';
import { fetchWithEnv, fetchWorker, testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

const PERIOD_MS = 30_000;

interface Enrolled {
  email: string;
  userId: string;
  access_token: string;
  secret: string;
  recoveryCodes: string[];
  /** A code for the current time step plus `offset` steps (the server accepts −1…+1). */
  code(offset?: number): string;
  /** The code spent on confirmation: still inside the accepted window, but already used. */
  spentCode: string;
}

function codeAt(secret: string, offset: number) {
  return TOTP.generate({
    secret: Secret.fromBase32(secret),
    timestamp: Date.now() + offset * PERIOD_MS,
  });
}

/** Six digits that are none of the codes the server would accept right now. */
function wrongCode(secret: string) {
  const valid = new Set([-1, 0, 1, 2].map((offset) => codeAt(secret, offset)));
  let candidate = 0;
  while (valid.has(String(candidate).padStart(6, '0'))) candidate++;
  return String(candidate).padStart(6, '0');
}

function json(token: string, method: string, body: unknown): RequestInit {
  return authed(token, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function userIdOf(email: string) {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
  return row!.id;
}

async function startEnrolment(token: string) {
  const response = await fetchWorker('/api/me/mfa/totp', authed(token, { method: 'POST' }));
  expect(response.status, await response.clone().text()).toBe(201);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return response.json<{ otpauth_uri: string; secret: string }>();
}

/** A signed-in user with MFA on; the current time step's code was spent on confirmation. */
async function enrolledUser(label: string): Promise<Enrolled> {
  const user = await newUser(label);
  const { secret } = await startEnrolment(user.access_token);
  const spentCode = codeAt(secret, 0);
  const confirm = await fetchWorker(
    '/api/me/mfa/totp/confirm',
    json(user.access_token, 'POST', { code: spentCode }),
  );
  expect(confirm.status, await confirm.clone().text()).toBe(200);
  const { recovery_codes } = await confirm.json<{ recovery_codes: string[] }>();
  return {
    email: user.email,
    userId: await userIdOf(user.email),
    access_token: user.access_token,
    secret,
    recoveryCodes: recovery_codes,
    code: (offset = 0) => codeAt(secret, offset),
    spentCode,
  };
}

async function passwordStep(email: string, fetcher = fetchWorker) {
  const response = await fetcher('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  const body = await response.json<Record<string, unknown>>();
  expect(body).toMatchObject({ mfa_required: true, expires_in: 300 });
  expect(body).not.toHaveProperty('access_token');
  expect(body).not.toHaveProperty('refresh_token');
  return body.mfa_token as string;
}

function verify(body: Record<string, unknown>) {
  return postJson('/api/auth/mfa/verify', body);
}

async function actions(userId: string) {
  const rows = await db.select().from(auditLogs).where(eq(auditLogs.actorId, userId));
  return rows.map((row) => row.action);
}

describe('TOTP enrolment and sign-in step-up', () => {
  it('enrols, confirms, then requires and accepts a code at sign-in; a replayed code is refused', async () => {
    const user = await newUser('mfa');
    const userId = await userIdOf(user.email);
    const status = await fetchWorker('/api/me/mfa', authed(user.access_token));
    expect(await status.json()).toMatchObject({ enabled: false, enrolment_pending: false });

    const { otpauth_uri, secret } = await startEnrolment(user.access_token);
    const uri = new URL(otpauth_uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('issuer')).toBe('Sparki');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(decodeURIComponent(uri.pathname)).toBe(`/Sparki:${user.email}`);
    const [pending] = await db.select().from(users).where(eq(users.id, userId));
    expect(pending!.mfaEnabledAt).toBeNull();
    expect(pending!.totpSecretEncrypted).toMatch(/^v1\./);
    expect(pending!.totpSecretEncrypted).not.toContain(secret);

    // A pending enrolment changes nothing at sign-in.
    const plain = await postJson('/api/auth/login', { email: user.email, password: PASSWORD });
    expect(await plain.json()).toHaveProperty('access_token');

    const wrong = await fetchWorker(
      '/api/me/mfa/totp/confirm',
      json(user.access_token, 'POST', { code: wrongCode(secret) }),
    );
    expect(wrong.status).toBe(401);
    const spent = codeAt(secret, 0);
    const confirmed = await fetchWorker(
      '/api/me/mfa/totp/confirm',
      json(user.access_token, 'POST', { code: spent }),
    );
    expect(confirmed.status).toBe(200);
    const { recovery_codes } = await confirmed.json<{ recovery_codes: string[] }>();
    expect(new Set(recovery_codes).size).toBe(10);
    expect((await fetchWorker('/api/me', authed(user.access_token))).status).toBe(200);
    expect(
      await (await fetchWorker('/api/me/mfa', authed(user.access_token))).json(),
    ).toMatchObject({ enabled: true, enrolment_pending: false, recovery_codes_remaining: 10 });

    const mfaToken = await passwordStep(user.email);
    // The sign-in step is not a credential for anything else.
    expect((await fetchWorker('/api/me', authed(mfaToken))).status).toBe(401);

    const bad = await verify({ mfa_token: mfaToken, code: wrongCode(secret) });
    expect(bad.status).toBe(401);
    // The code spent on confirmation cannot be spent again.
    const replayed = await verify({ mfa_token: mfaToken, code: spent });
    expect(replayed.status).toBe(401);
    const next = codeAt(secret, 1);
    const signedIn = await verify({ mfa_token: mfaToken, code: next });
    expect(signedIn.status, await signedIn.clone().text()).toBe(200);
    const tokens = await signedIn.json<{ access_token: string; refresh_token: string }>();
    const me = await fetchWorker('/api/me', authed(tokens.access_token));
    expect(await me.json()).toMatchObject({ email: user.email, mfa_enabled: true });

    // A finished step cannot be finished again, and its code cannot open another one.
    expect((await verify({ mfa_token: mfaToken, code: codeAt(secret, 1) })).status).toBe(401);
    const again = await passwordStep(user.email);
    expect((await verify({ mfa_token: again, code: next })).status).toBe(401);

    const logged = await actions(userId);
    expect(logged.filter((a) => a === 'mfa.enrolment_started')).toHaveLength(1);
    expect(logged.filter((a) => a === 'mfa.enabled')).toHaveLength(1);
    expect(logged.filter((a) => a === 'auth.mfa_challenge_issued')).toHaveLength(2);
    expect(logged.filter((a) => a === 'auth.mfa_failed')).toHaveLength(3);
  });

  it('completes a dashboard sign-in with cookies, like the password-only sign-in', async () => {
    const user = await enrolledUser('mfa-cookie');
    const mfaToken = await passwordStep(user.email);
    const response = await verify({ mfa_token: mfaToken, code: user.code(1), session: 'cookie' });
    expect(response.status).toBe(200);
    const body = await response.json<Record<string, unknown>>();
    expect(body).toHaveProperty('session_id');
    expect(body).not.toHaveProperty('access_token');
    const cookies = response.headers.getSetCookie().join('\n');
    expect(cookies).toMatch(/__Host-sparki_at=[^;]+;.*HttpOnly/);
    expect(cookies).toMatch(/__Host-sparki_rt=/);
    const [login] = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.actorId, user.userId), eq(auditLogs.targetId, `${body.session_id}`)));
    expect(login).toMatchObject({ action: 'auth.login', metadata: { mfa: 'totp' } });
  });

  it('refuses to start a second enrolment while MFA is on', async () => {
    const user = await enrolledUser('mfa-twice');
    const response = await fetchWorker(
      '/api/me/mfa/totp',
      authed(user.access_token, { method: 'POST' }),
    );
    expect(response.status).toBe(409);
  });

  it('is for signed-in people only', async () => {
    expect((await fetchWorker('/api/me/mfa/totp', { method: 'POST' })).status).toBe(401);
    expect((await verify({ mfa_token: 'spk_mfa_nothing', code: '123456' })).status).toBe(401);
  });
});

describe('recovery codes', () => {
  it('each works once, in any case or grouping, and its use is audited', async () => {
    const user = await enrolledUser('mfa-recovery');
    const [first, second] = user.recoveryCodes;
    const stored = await db
      .select({ hash: recoveryCodes.codeHash })
      .from(recoveryCodes)
      .where(eq(recoveryCodes.userId, user.userId));
    expect(stored).toHaveLength(10);
    for (const row of stored) expect(user.recoveryCodes.join()).not.toContain(row.hash);

    const used = await verify({ mfa_token: await passwordStep(user.email), recovery_code: first });
    expect(used.status).toBe(200);
    expect(await used.json()).toHaveProperty('access_token');
    const reused = await verify({
      mfa_token: await passwordStep(user.email),
      recovery_code: first,
    });
    expect(reused.status).toBe(401);

    const retyped = second!.toUpperCase().replaceAll('-', ' ');
    const other = await verify({
      mfa_token: await passwordStep(user.email),
      recovery_code: retyped,
    });
    expect(other.status).toBe(200);

    const status = await fetchWorker('/api/me/mfa', authed(user.access_token));
    expect(await status.json()).toMatchObject({ recovery_codes_remaining: 8 });
    const audit = await db
      .select()
      .from(auditLogs)
      .where(
        and(eq(auditLogs.actorId, user.userId), eq(auditLogs.action, 'mfa.recovery_code_used')),
      )
      .orderBy(auditLogs.createdAt);
    expect(audit.map((row) => row.metadata)).toEqual([{ remaining: 9 }, { remaining: 8 }]);
  });

  it('regenerating needs the password and a fresh code, and retires the old set', async () => {
    const user = await enrolledUser('mfa-regen');
    const regenerate = (body: unknown) =>
      fetchWorker('/api/me/mfa/recovery-codes', json(user.access_token, 'POST', body));

    expect((await regenerate({ password: 'not the password', code: user.code(1) })).status).toBe(
      401,
    );
    expect((await regenerate({ password: PASSWORD, code: user.spentCode })).status).toBe(401);
    const fresh = await regenerate({ password: PASSWORD, code: user.code(1) });
    expect(fresh.status).toBe(200);
    const { recovery_codes } = await fresh.json<{ recovery_codes: string[] }>();
    expect(recovery_codes).toHaveLength(10);
    expect(recovery_codes).not.toContain(user.recoveryCodes[0]);

    const old = await verify({
      mfa_token: await passwordStep(user.email),
      recovery_code: user.recoveryCodes[0],
    });
    expect(old.status).toBe(401);
    const current = await verify({
      mfa_token: await passwordStep(user.email),
      recovery_code: recovery_codes[0],
    });
    expect(current.status).toBe(200);
    const logged = await db
      .select({ result: auditLogs.result })
      .from(auditLogs)
      .where(
        and(
          eq(auditLogs.actorId, user.userId),
          eq(auditLogs.action, 'mfa.recovery_codes_regenerated'),
        ),
      );
    expect(logged.map((row) => row.result).sort()).toEqual(['failure', 'failure', 'success']);
  });
});

describe('turning MFA off', () => {
  it('needs the password and a code; afterwards sign-in is password-only again', async () => {
    const user = await enrolledUser('mfa-off');
    const disable = (body: unknown) =>
      fetchWorker('/api/me/mfa', json(user.access_token, 'DELETE', body));

    expect((await disable({ password: PASSWORD })).status).toBe(400);
    expect((await disable({ code: user.code(1) })).status).toBe(401);
    // A wrong password does not spend the code that came with it.
    expect((await disable({ password: 'not the password', code: user.code(1) })).status).toBe(401);
    expect(
      (await disable({ password: PASSWORD, recovery_code: 'zzzz-zzzz-zzzz-zzzz' })).status,
    ).toBe(401);
    expect((await disable({ password: PASSWORD, code: user.code(1) })).status).toBe(204);

    const [row] = await db.select().from(users).where(eq(users.id, user.userId));
    expect(row).toMatchObject({ totpSecretEncrypted: null, mfaEnabledAt: null });
    expect(
      await db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.userId)),
    ).toEqual([]);
    const login = await postJson('/api/auth/login', { email: user.email, password: PASSWORD });
    expect(await login.json()).toHaveProperty('access_token');
    expect((await disable({ password: PASSWORD, code: user.code(1) })).status).toBe(409);
    const logged = await db
      .select({ result: auditLogs.result, metadata: auditLogs.metadata })
      .from(auditLogs)
      .where(and(eq(auditLogs.actorId, user.userId), eq(auditLogs.action, 'mfa.disabled')));
    expect(logged.filter((r) => r.result === 'success')).toEqual([
      { result: 'success', metadata: { factor: 'totp' } },
    ]);
  });

  it('accepts a recovery code in place of the authenticator', async () => {
    const user = await enrolledUser('mfa-off-recovery');
    const response = await fetchWorker(
      '/api/me/mfa',
      json(user.access_token, 'DELETE', {
        password: PASSWORD,
        recovery_code: user.recoveryCodes[3],
      }),
    );
    expect(response.status).toBe(204);
  });
});

describe('guessing codes', () => {
  const noRedis = { UPSTASH_REDIS_REST_URL: '', UPSTASH_REDIS_REST_TOKEN: '' };

  it('closes a sign-in step after five wrong codes, even without Redis', async () => {
    const user = await enrolledUser('mfa-guess');
    const post = (body: unknown) =>
      fetchWithEnv('/api/auth/mfa/verify', noRedis, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const mfaToken = await passwordStep(user.email, (path, init) =>
      fetchWithEnv(path, noRedis, init),
    );
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await post({ mfa_token: mfaToken, code: wrongCode(user.secret) })).status).toBe(401);
    }
    const closed = await post({ mfa_token: mfaToken, code: user.code(1) });
    expect(closed.status).toBe(401);
    const [challenge] = await db
      .select()
      .from(mfaChallenges)
      .where(eq(mfaChallenges.userId, user.userId));
    expect(challenge).toMatchObject({ failedAttempts: 5, usedAt: null });
    // The right code was not spent on the closed step.
    const fresh = await passwordStep(user.email, (path, init) => fetchWithEnv(path, noRedis, init));
    expect((await post({ mfa_token: fresh, code: user.code(1) })).status).toBe(200);
  });

  it.skipIf(!env.UPSTASH_REDIS_REST_URL)(
    'rate limits wrong codes per account across sign-in steps (429 with Retry-After)',
    async () => {
      const user = await enrolledUser('mfa-limit');
      let last: Response | undefined;
      for (let attempt = 0; attempt < 6; attempt++) {
        // A new step for each guess: the limit follows the account, not the token.
        const mfaToken = await passwordStep(user.email);
        last = await verify({ mfa_token: mfaToken, code: wrongCode(user.secret) });
        if (attempt < 5) expect(last.status).toBe(401);
      }
      expect(last!.status).toBe(429);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    },
  );
});

describe('MFA secrets stay secret', () => {
  it('never returns or logs the seed, recovery codes or step token after they were issued', async () => {
    const lines: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    };
    const bodies: string[] = [];
    let user: Enrolled | undefined;
    let mfaToken = '';
    try {
      user = await enrolledUser('mfa-secret');
      mfaToken = await passwordStep(user.email);
      const signedIn = await verify({ mfa_token: mfaToken, recovery_code: user.recoveryCodes[0] });
      const { access_token } = await signedIn.json<{ access_token: string }>();
      for (const path of ['/api/me', '/api/me/mfa', '/api/auth/sessions']) {
        bodies.push(await (await fetchWorker(path, authed(access_token))).text());
      }
    } finally {
      console.log = original;
    }
    const audit = await db.select().from(auditLogs).where(eq(auditLogs.actorId, user!.userId));
    const [challenge] = await db
      .select({ hash: mfaChallenges.tokenHash })
      .from(mfaChallenges)
      .where(eq(mfaChallenges.userId, user!.userId));
    expect(challenge!.hash).not.toBe(mfaToken);
    const texts = [...lines, ...bodies, JSON.stringify(audit)];
    for (const secret of [user!.secret, mfaToken, ...user!.recoveryCodes]) {
      for (const text of texts) expect(text).not.toContain(secret);
    }
    expect(lines.length).toBeGreaterThan(0);
  });
});
