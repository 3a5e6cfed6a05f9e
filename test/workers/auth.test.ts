import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/digest';
import { generateSigningKey } from '../../core/signing-keys';
import { auditLogs, refreshTokens, sessions, users } from '../../db/schema';
import { REFRESH_REUSE_GRACE_SECONDS } from '../../domain/accounts/sessions';
import {
  authed,
  createWorkspace,
  freshEmail,
  login,
  mailedToken,
  newUser,
  PASSWORD,
  postJson,
  signUpVerified,
  type TokenPair,
} from './auth-helpers';
import { fetchWorker, testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function me(token: string) {
  return fetchWorker('/api/me', authed(token));
}

async function refresh(refreshToken: string) {
  const response = await postJson('/api/auth/refresh', { refresh_token: refreshToken });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<TokenPair>();
}

describe('accounts', () => {
  it('signup → verify → login → refresh → reuse of a spent refresh token revokes the family', async () => {
    const email = freshEmail('flow');
    const signup = await postJson('/api/auth/signup', { email, password: PASSWORD });
    expect(signup.status).toBe(202);

    const early = await postJson('/api/auth/login', { email, password: PASSWORD });
    expect(early.status).toBe(403);
    expect((await early.json<{ error: { code: string } }>()).error.code).toBe('email_not_verified');

    const token = await mailedToken(email, /Verify/);
    expect((await postJson('/api/auth/verify-email', { token })).status).toBe(200);
    expect((await postJson('/api/auth/verify-email', { token })).status).toBe(400);

    const first = await login(email);
    const meResponse = await me(first.access_token);
    expect(meResponse.status).toBe(200);
    expect(await meResponse.json()).toMatchObject({
      email,
      email_verified: true,
      mfa_enabled: false,
    });

    const rotated = await postJson('/api/auth/refresh', { refresh_token: first.refresh_token });
    expect(rotated.status).toBe(200);
    const second = await rotated.json<{ access_token: string; refresh_token: string }>();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await me(second.access_token)).status).toBe(200);
    const third = await refresh(second.refresh_token);

    // `first`'s successor has been used since: `first` is no longer the previous token.
    const reuse = await postJson('/api/auth/refresh', { refresh_token: first.refresh_token });
    expect(reuse.status).toBe(401);
    // The whole family is gone: the newest refresh token and the live access token stop working.
    expect(
      (await postJson('/api/auth/refresh', { refresh_token: third.refresh_token })).status,
    ).toBe(401);
    expect((await me(third.access_token)).status).toBe(401);
  });

  it('answers a wrong email and a wrong password identically', async () => {
    const email = await signUpVerified();
    const wrongPassword = await postJson('/api/auth/login', {
      email,
      password: 'not the password',
    });
    const wrongEmail = await postJson('/api/auth/login', {
      email: freshEmail('nobody'),
      password: PASSWORD,
    });
    expect(wrongPassword.status).toBe(401);
    expect(wrongEmail.status).toBe(401);
    const a = await wrongPassword.json<{ error: unknown }>();
    const b = await wrongEmail.json<{ error: unknown }>();
    expect(a.error).toEqual(b.error);
  });

  it('does not reveal whether an address is registered at signup or reset', async () => {
    const email = await signUpVerified();
    const again = await postJson('/api/auth/signup', { email, password: PASSWORD });
    const fresh = await postJson('/api/auth/signup', { email: freshEmail(), password: PASSWORD });
    expect(again.status).toBe(fresh.status);
    expect(await again.json()).toEqual(await fresh.json());
    const resetKnown = await postJson('/api/auth/password-reset', { email });
    const resetUnknown = await postJson('/api/auth/password-reset', { email: freshEmail() });
    expect(await resetKnown.json()).toEqual(await resetUnknown.json());
  });

  it('resets a password with a single-use token and signs every session out', async () => {
    const { email, access_token } = await newUser('reset');
    await postJson('/api/auth/password-reset', { email });
    const token = await mailedToken(email, /Reset/);
    const confirm = await postJson('/api/auth/password-reset/confirm', {
      token,
      password: 'a brand new passphrase',
    });
    expect(confirm.status).toBe(200);
    expect(
      (await postJson('/api/auth/password-reset/confirm', { token, password: 'another one here' }))
        .status,
    ).toBe(400);
    expect((await me(access_token)).status).toBe(401);
    expect((await postJson('/api/auth/login', { email, password: PASSWORD })).status).toBe(401);
    await login(email, 'a brand new passphrase');
  });

  it('rejects weak input with field details', async () => {
    const response = await postJson('/api/auth/signup', {
      email: 'not-an-email',
      password: 'short',
    });
    expect(response.status).toBe(400);
    const body = await response.json<{ error: { details: { fields: { path: string }[] } } }>();
    expect(body.error.details.fields.map((f) => f.path).sort()).toEqual(['email', 'password']);
  });

  it('lists sessions and revokes one', async () => {
    const { email, access_token } = await newUser('sessions');
    const other = await login(email);
    const listed = await fetchWorker('/api/auth/sessions', authed(access_token));
    const { sessions } = await listed.json<{ sessions: { id: string; current: boolean }[] }>();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const revoke = await fetchWorker(
      `/api/auth/sessions/${other.session_id}`,
      authed(access_token, { method: 'DELETE' }),
    );
    expect(revoke.status).toBe(204);
    expect((await me(other.access_token)).status).toBe(401);
    expect((await me(access_token)).status).toBe(200);
  });

  it('logs out the current session', async () => {
    const { access_token, refresh_token } = await newUser('logout');
    expect(
      (await fetchWorker('/api/auth/logout', authed(access_token, { method: 'POST' }))).status,
    ).toBe(204);
    expect((await me(access_token)).status).toBe(401);
    expect((await postJson('/api/auth/refresh', { refresh_token })).status).toBe(401);
  });
});

describe('the profile', () => {
  function patchMe(token: string | undefined, body: unknown) {
    return fetchWorker('/api/me', {
      method: 'PATCH',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
  }

  it('changes the name, trimmed, and clears it with an empty one; audited', async () => {
    const { email, access_token } = await newUser('profile');
    const renamed = await patchMe(access_token, { display_name: '  Ada Lovelace ' });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ email, display_name: 'Ada Lovelace' });
    expect(await (await me(access_token)).json()).toMatchObject({ display_name: 'Ada Lovelace' });
    const cleared = await patchMe(access_token, { display_name: '' });
    expect(await cleared.json()).toMatchObject({ display_name: null });
    expect((await patchMe(access_token, { display_name: null })).status).toBe(200);

    const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
    const rows = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.actorId, user!.id), eq(auditLogs.action, 'user.profile_updated')));
    expect(rows).toHaveLength(3);
  });

  it('refuses a name over 100 characters, a missing field, anonymous callers and API tokens', async () => {
    const { access_token } = await newUser('profile-bad');
    const long = await patchMe(access_token, { display_name: 'x'.repeat(101) });
    expect(long.status).toBe(400);
    expect((await long.json<{ error: { code: string } }>()).error.code).toBe('validation_failed');
    expect((await patchMe(access_token, {})).status).toBe(400);
    expect((await patchMe(undefined, { display_name: 'Nobody' })).status).toBe(401);

    const workspace = await createWorkspace(access_token);
    const pat = await postJson(
      '/api/me/tokens',
      { name: 'ci', workspace_id: workspace.id, scope: 'admin' },
      { authorization: `Bearer ${access_token}` },
    );
    const { token } = await pat.json<{ token: string }>();
    expect((await patchMe(token, { display_name: 'Via a token' })).status).toBe(403);
  });
});

describe('access tokens', () => {
  async function activeKey(): Promise<JWK> {
    return (JSON.parse(env.JWT_SIGNING_KEYS) as JWK[])[0]!;
  }

  async function forge(
    key: JWK,
    claims: { sub: string; sid: string },
    {
      issuer = env.PUBLIC_URL,
      expiresAt = '10m',
    }: { issuer?: string; expiresAt?: string | number } = {},
  ) {
    return new SignJWT({ sid: claims.sid })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience('sparki-api')
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(await importJWK(key, 'ES256'));
  }

  async function victim() {
    const user = await newUser('jwt');
    const [payload] = user.access_token.split('.').slice(1, 2);
    const claims = JSON.parse(atob(payload!.replaceAll('-', '+').replaceAll('_', '/'))) as {
      sub: string;
      sid: string;
    };
    return { ...user, claims };
  }

  it('publishes the verifying keys without private parts', async () => {
    const response = await fetchWorker('/.well-known/jwks.json');
    const { keys } = await response.json<{ keys: JWK[] }>();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      alg: 'ES256',
      kid: (await activeKey()).kid,
    });
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('accepts a correctly signed token (the forger works)', async () => {
    const { claims } = await victim();
    expect((await me(await forge(await activeKey(), claims))).status).toBe(200);
  });

  it('rejects alg none', async () => {
    const { claims } = await victim();
    const encode = (value: unknown) =>
      btoa(JSON.stringify(value)).replaceAll('=', '').replaceAll('+', '-').replaceAll('/', '_');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${encode({ alg: 'none', typ: 'at+jwt', kid: (await activeKey()).kid })}.${encode(
      {
        ...claims,
        iss: env.PUBLIC_URL,
        aud: 'sparki-api',
        iat: now,
        exp: now + 600,
      },
    )}.`;
    expect((await me(unsigned)).status).toBe(401);
  });

  it('rejects an unknown kid', async () => {
    const { claims } = await victim();
    expect((await me(await forge(await generateSigningKey('rogue'), claims))).status).toBe(401);
  });

  it('rejects another issuer', async () => {
    const { claims } = await victim();
    const token = await forge(await activeKey(), claims, { issuer: 'https://evil.example' });
    expect((await me(token)).status).toBe(401);
  });

  it('rejects an expired token', async () => {
    const { claims } = await victim();
    const token = await forge(await activeKey(), claims, {
      expiresAt: Math.floor(Date.now() / 1000) - 5,
    });
    expect((await me(token)).status).toBe(401);
  });

  it('stops accepting a token at its expiry, though it was verified before', async () => {
    const { claims } = await victim();
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const token = await forge(await activeKey(), claims, { expiresAt });
    expect((await me(token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50));
    expect((await me(token)).status).toBe(401);
  });

  it('stops accepting a verified token once its session is signed out', async () => {
    const { access_token, claims } = await victim();
    expect((await me(access_token)).status).toBe(200);
    await db.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, claims.sid));
    expect((await me(access_token)).status).toBe(401);
  });

  it('refuses tokens in the query string', async () => {
    const { access_token } = await newUser('query');
    const response = await fetchWorker(`/api/me?access_token=${access_token}`);
    expect(response.status).toBe(400);
  });
});

describe('refresh token rotation', () => {
  it('two tabs refreshing the same token at once both stay signed in', async () => {
    const { refresh_token } = await newUser('tabs');
    const [one, two] = await Promise.all(
      [1, 2].map(() => postJson('/api/auth/refresh', { refresh_token })),
    );
    expect(one!.status, await one!.clone().text()).toBe(200);
    expect(two!.status, await two!.clone().text()).toBe(200);
    const tabs = [await one!.json<TokenPair>(), await two!.json<TokenPair>()];
    expect(tabs[0]!.refresh_token).not.toBe(tabs[1]!.refresh_token);
    expect(tabs[0]!.session_id).toBe(tabs[1]!.session_id);
    for (const tab of tabs) {
      expect((await me(tab.access_token)).status).toBe(200);
      // Each tab's refresh token rotates on: neither pair was revoked by the other.
      const next = await refresh(tab.refresh_token);
      expect((await me(next.access_token)).status).toBe(200);
    }
  });

  it('a spent token presented after the grace period revokes the family', async () => {
    const first = await newUser('grace');
    const second = await refresh(first.refresh_token);
    // Rotated longer ago than the grace allows, without waiting for it.
    await db
      .update(refreshTokens)
      .set({ usedAt: new Date(Date.now() - (REFRESH_REUSE_GRACE_SECONDS + 1) * 1000) })
      .where(eq(refreshTokens.tokenHash, await sha256Hex(first.refresh_token)));

    const reuse = await postJson('/api/auth/refresh', { refresh_token: first.refresh_token });
    expect(reuse.status).toBe(401);
    expect(
      (await postJson('/api/auth/refresh', { refresh_token: second.refresh_token })).status,
    ).toBe(401);
    expect((await me(second.access_token)).status).toBe(401);
  });
});

describe('secrets stay secret', () => {
  it('never logs or returns a password, token or hash after creation', async () => {
    const lines: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    };
    let tokens: { access_token: string; refresh_token: string } | undefined;
    const bodies: string[] = [];
    try {
      const email = await signUpVerified(freshEmail('secret'));
      tokens = await login(email);
      await postJson('/api/auth/login', { email, password: 'wrong password here' });
      const meResponse = await me(tokens.access_token);
      bodies.push(await meResponse.text());
      bodies.push(
        await (await fetchWorker('/api/auth/sessions', authed(tokens.access_token))).text(),
      );
    } finally {
      console.log = original;
    }
    const [stored] = await db
      .select({ hash: users.passwordHash })
      .from(users)
      .where(eq(users.email, JSON.parse(bodies[0]!).email));
    const secrets = [
      PASSWORD,
      'wrong password here',
      tokens!.access_token,
      tokens!.refresh_token,
      stored!.hash!,
    ];
    for (const secret of secrets) {
      for (const text of [...lines, ...bodies]) expect(text).not.toContain(secret);
    }
    expect(lines.length).toBeGreaterThan(0);
  });
});

describe('audit of account changes', () => {
  it('writes exactly one row per privileged change', async () => {
    const { email, access_token } = await newUser('audit');
    const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
    const rows = await db.select().from(auditLogs).where(eq(auditLogs.actorId, user!.id));
    const actions = rows.map((row) => row.action).sort();
    expect(actions).toEqual(['auth.login', 'user.email_verified', 'user.signup']);
    await fetchWorker('/api/auth/logout', authed(access_token, { method: 'POST' }));
    const logout = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.actorId, user!.id), eq(auditLogs.action, 'auth.logout')));
    expect(logout).toHaveLength(1);
    expect(logout[0]?.requestId).toBeTruthy();
  });
});
