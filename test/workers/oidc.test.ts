import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/digest';
import { AUTH_RATE_LIMITS } from '../../core/rate-limits';
import { generateRecoveryCode, normalizeRecoveryCode } from '../../core/recovery-codes';
import { auditLogs, identities, recoveryCodes, users } from '../../db/schema';
import { openPendingSignIn, sealPendingSignIn } from '../../workers/auth/oidc';
import { IDP_STATE_COOKIE } from '../../workers/auth/oidc-routes';
import { ACCESS_COOKIE, REFRESH_COOKIE } from '../../workers/auth/principal';
import { authed, freshEmail, login, PASSWORD, postJson, signUpVerified } from './auth-helpers';
import { fetchWithEnv, fetchWorker, testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

type ErrorBody = { error: { code: string; message: string; details?: { reason?: string } } };

function cookiesOf(response: Response): Map<string, string> {
  const jar = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const at = pair!.indexOf('=');
    jar.set(pair!.slice(0, at), pair!.slice(at + 1));
  }
  return jar;
}

function cookieHeader(jar: Map<string, string>) {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

function location(response: Response, base?: string) {
  const value = response.headers.get('location');
  expect(value, `no redirect (status ${response.status})`).toBeTruthy();
  return new URL(value!, base);
}

interface Started {
  authorizeUrl: URL;
  stateCookie: string;
}

async function start(
  provider: 'oidc' | 'github',
  query = '',
  overrides: Partial<Env> = {},
): Promise<Started> {
  const response = await fetchWithEnv(`/api/auth/oidc/${provider}/start${query}`, overrides);
  expect(response.status, await response.clone().text()).toBe(302);
  const stateCookie = cookiesOf(response).get(IDP_STATE_COOKIE);
  expect(stateCookie).toBeTruthy();
  return { authorizeUrl: location(response), stateCookie: stateCookie! };
}

function callback(url: URL, stateCookie: string | undefined, overrides: Partial<Env> = {}) {
  return fetchWithEnv(`${url.pathname}${url.search}`, overrides, {
    headers: stateCookie ? { cookie: `${IDP_STATE_COOKIE}=${stateCookie}` } : {},
  });
}

interface ProviderAccount {
  sub: string;
  email: string;
  email_verified: boolean;
  name?: string;
}

function freshAccount(email = freshEmail('idp'), email_verified = true): ProviderAccount {
  return { sub: `sub-${crypto.randomUUID()}`, email, email_verified, name: 'Ada Lovelace' };
}

/** The browser at the OpenID Provider: authorize, log in as `account`, follow back to Sparki. */
async function loginAtProvider(authorizeUrl: URL, account: ProviderAccount): Promise<URL> {
  const jar = new Map<string, string>();
  const authorize = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(authorize.status, await authorize.clone().text()).toBe(303);
  for (const [name, value] of cookiesOf(authorize)) jar.set(name, value);
  const interaction = location(authorize, authorizeUrl.href);
  expect(interaction.pathname).toMatch(/^\/interaction\//);

  const submitted = await fetch(`${interaction.href}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      cookie: cookieHeader(jar),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      sub: account.sub,
      email: account.email,
      email_verified: String(account.email_verified),
      name: account.name ?? '',
    }),
  });
  expect(submitted.status, await submitted.clone().text()).toBe(303);
  for (const [name, value] of cookiesOf(submitted)) jar.set(name, value);

  const resumed = await fetch(location(submitted, authorizeUrl.href), {
    redirect: 'manual',
    headers: { cookie: cookieHeader(jar) },
  });
  expect(resumed.status, await resumed.clone().text()).toBe(303);
  const back = location(resumed);
  expect(back.origin + back.pathname).toBe(`${env.PUBLIC_URL}/api/auth/oidc/oidc/callback`);
  return back;
}

async function signInWithOidc(account: ProviderAccount, query = '') {
  const started = await start('oidc', query);
  const back = await loginAtProvider(started.authorizeUrl, account);
  return callback(back, started.stateCookie);
}

async function me(accessToken: string, via: 'cookie' | 'bearer' = 'cookie') {
  const response = await fetchWorker(
    '/api/me',
    via === 'cookie'
      ? { headers: { cookie: `${ACCESS_COOKIE}=${accessToken}` } }
      : authed(accessToken),
  );
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<{ id: string; email: string; email_verified: boolean }>();
}

async function signedInUser(response: Response) {
  expect(response.status, await response.clone().text()).toBe(302);
  const jar = cookiesOf(response);
  expect(jar.get(REFRESH_COOKIE)).toBeTruthy();
  // Single use: the callback clears the sign-in state.
  expect(jar.get(IDP_STATE_COOKIE)).toBe('');
  return me(jar.get(ACCESS_COOKIE)!);
}

async function identitiesOf(userId: string) {
  return db.select().from(identities).where(eq(identities.userId, userId));
}

async function auditActions(userId: string) {
  const rows = await db.select().from(auditLogs).where(eq(auditLogs.actorId, userId));
  return rows.map((row) => row.action).sort();
}

async function userId(email: string) {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
  return row!.id;
}

describe('sign in with OpenID Connect (against a running oidc-provider)', () => {
  it('creates a verified account on first sign-in and lands on return_to with session cookies', async () => {
    const started = await start('oidc', `?return_to=${encodeURIComponent('/projects?tab=builds')}`);
    const params = started.authorizeUrl.searchParams;
    expect(started.authorizeUrl.origin).toBe(env.OIDC_ISSUER);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(params.get('state')).toBeTruthy();
    expect(params.get('nonce')).toBeTruthy();
    expect(params.get('scope')).toBe('openid email profile');

    const account = freshAccount();
    const response = await callback(
      await loginAtProvider(started.authorizeUrl, account),
      started.stateCookie,
    );
    expect(location(response).href).toBe(`${env.PUBLIC_URL}/projects?tab=builds`);
    const user = await signedInUser(response);
    expect(user).toMatchObject({ email: account.email, email_verified: true });

    const [identity, ...more] = await identitiesOf(user.id);
    expect(more).toHaveLength(0);
    expect(identity).toMatchObject({
      provider: `oidc:${env.OIDC_ISSUER}`,
      subject: account.sub,
      email: account.email,
    });
    const [row] = await db.select().from(users).where(eq(users.id, user.id));
    expect(row!.passwordHash).toBeNull();
    expect(await auditActions(user.id)).toEqual(['auth.login', 'identity.linked', 'user.signup']);
  });

  it('signs the same person in again through the identity it already linked', async () => {
    const account = freshAccount();
    const first = await signedInUser(await signInWithOidc(account));
    // The address at the provider changed since; the identity, not the address, finds the user.
    const second = await signedInUser(
      await signInWithOidc({ ...account, email: freshEmail('renamed') }),
    );
    expect(second.id).toBe(first.id);
    expect(second.email).toBe(account.email);
    expect(await identitiesOf(first.id)).toHaveLength(1);
    expect(await auditActions(first.id)).toEqual([
      'auth.login',
      'auth.login',
      'identity.linked',
      'user.signup',
    ]);
  });

  it('links an existing account only when the provider verified the address', async () => {
    const email = await signUpVerified(freshEmail('existing'));
    const owner = await userId(email);

    const unverified = await signInWithOidc(freshAccount(email, false));
    expect(unverified.status).toBe(403);
    const refusal = await unverified.json<ErrorBody>();
    expect(refusal.error.code).toBe('email_not_verified');
    expect(await identitiesOf(owner)).toHaveLength(0);
    const [denied] = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.targetId, owner), eq(auditLogs.action, 'identity.link')));
    expect(denied).toMatchObject({ result: 'denied', actorId: null });

    const account = freshAccount(email, true);
    const linked = await signedInUser(await signInWithOidc(account));
    expect(linked.id).toBe(owner);
    const [identity] = await identitiesOf(owner);
    expect(identity).toMatchObject({ subject: account.sub });
    // The password still works: linking adds a way in, it takes none away.
    expect((await login(email)).access_token).toBeTruthy();
  });

  it('gives no hint whether an address has an account when the provider did not verify it', async () => {
    const taken = await signUpVerified(freshEmail('taken'));
    const a = await signInWithOidc(freshAccount(taken, false));
    const b = await signInWithOidc(freshAccount(freshEmail('free'), false));
    expect(a.status).toBe(403);
    expect(b.status).toBe(403);
    expect((await a.json<ErrorBody>()).error).toEqual((await b.json<ErrorBody>()).error);
  });

  it('refuses to link an account whose own address was never confirmed', async () => {
    const email = freshEmail('squatted');
    expect((await postJson('/api/auth/signup', { email, password: PASSWORD })).status).toBe(202);
    const response = await signInWithOidc(freshAccount(email, true));
    expect(response.status).toBe(409);
    expect((await response.json<ErrorBody>()).error.code).toBe('conflict');
    expect(await identitiesOf(await userId(email))).toHaveLength(0);
  });

  it('rejects a callback whose state was tampered with, or that has no sign-in cookie', async () => {
    const started = await start('oidc');
    const back = await loginAtProvider(started.authorizeUrl, freshAccount());
    const forged = new URL(back);
    forged.searchParams.set('state', 'attacker-chosen');
    const tampered = await callback(forged, started.stateCookie);
    expect(tampered.status).toBe(400);
    expect((await tampered.json<ErrorBody>()).error.code).toBe('bad_request');

    const noCookie = await callback(back, undefined);
    expect(noCookie.status).toBe(400);

    const at = started.stateCookie.length - 10;
    const flipped = `${started.stateCookie.slice(0, at)}${started.stateCookie[at] === 'A' ? 'B' : 'A'}${started.stateCookie.slice(at + 1)}`;
    expect((await callback(back, flipped)).status).toBe(400);
  });

  it("checks the ID token's nonce and the PKCE verifier against this browser's sign-in", async () => {
    const key = env.ENCRYPTION_KEY;
    const victim = await start('oidc');
    const back = await loginAtProvider(victim.authorizeUrl, freshAccount());
    const pending = await openPendingSignIn(key, victim.stateCookie, 'oidc');

    const otherNonce = await sealPendingSignIn(key, { ...pending, nonce: 'some-other-nonce' });
    const nonce = await callback(back, otherNonce);
    expect(nonce.status).toBe(400);
    expect((await nonce.json<ErrorBody>()).error.details?.reason).toBe(
      'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
    );

    const replay = await start('oidc');
    const again = await loginAtProvider(replay.authorizeUrl, freshAccount());
    const replayPending = await openPendingSignIn(key, replay.stateCookie, 'oidc');
    const otherVerifier = await sealPendingSignIn(key, {
      ...replayPending,
      codeVerifier: 'x'.repeat(43),
    });
    const pkce = await callback(again, otherVerifier);
    expect(pkce.status).toBe(400);
    expect((await pkce.json<ErrorBody>()).error.message).toMatch(/invalid_grant/);
  });

  it("refuses an ID token that is not signed with a key from the provider's JWKS", async () => {
    // A client the test provider signs ID tokens for with the shared secret (HS256): valid
    // claims, but no key the provider published vouches for them.
    const client = { OIDC_CLIENT_ID: `${env.OIDC_CLIENT_ID}-hs256` };
    const started = await start('oidc', '', client);
    const back = await loginAtProvider(started.authorizeUrl, freshAccount());
    const response = await callback(back, started.stateCookie, client);
    expect(response.status).toBe(400);
    expect((await response.json<ErrorBody>()).error.message).toMatch(/failed verification/);
  });

  it('sends an account with MFA to the second step instead of signing it in', async () => {
    const account = freshAccount();
    const user = await signedInUser(await signInWithOidc(account, '?return_to=%2Fsettings'));
    const recoveryCode = generateRecoveryCode();
    await db.update(users).set({ mfaEnabledAt: new Date() }).where(eq(users.id, user.id));
    await db.insert(recoveryCodes).values({
      userId: user.id,
      codeHash: await sha256Hex(normalizeRecoveryCode(recoveryCode)!),
    });

    const response = await signInWithOidc(account, '?return_to=%2Fsettings');
    expect(response.status).toBe(302);
    expect(cookiesOf(response).get(ACCESS_COOKIE)).toBeUndefined();
    const next = location(response);
    expect(next.origin + next.pathname).toBe(`${env.PUBLIC_URL}/login/mfa`);
    const fragment = new URLSearchParams(next.hash.slice(1));
    expect(fragment.get('return_to')).toBe('/settings');

    const verified = await postJson('/api/auth/mfa/verify', {
      mfa_token: fragment.get('mfa_token'),
      recovery_code: recoveryCode,
    });
    expect(verified.status, await verified.clone().text()).toBe(200);
    const { access_token } = await verified.json<{ access_token: string }>();
    expect((await me(access_token, 'bearer')).id).toBe(user.id);
  });

  it('limits callbacks per client address like password logins', async () => {
    const ip = `10.${[1, 2, 3].map(() => Math.floor(Math.random() * 256)).join('.')}`;
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_RATE_LIMITS.login.ip.limit + 1; i++) {
      const response = await fetchWorker('/api/auth/oidc/oidc/callback?code=x&state=y', {
        headers: { 'cf-connecting-ip': ip },
      });
      statuses.push(response.status);
    }
    expect(statuses.at(-2)).toBe(400);
    expect(statuses.at(-1)).toBe(429);
  });

  it('lists only the configured identity providers, for the sign-in page', async () => {
    const both = await fetchWorker('/api/auth/providers');
    expect(both.status).toBe(200);
    expect(await both.json()).toEqual({
      providers: [
        { id: 'oidc', label: 'single sign-on' },
        { id: 'github', label: 'GitHub' },
      ],
    });
    const githubOnly = await fetchWithEnv('/api/auth/providers', {
      OIDC_ISSUER: '',
      OIDC_CLIENT_ID: '',
      OIDC_CLIENT_SECRET: '',
    });
    expect(await githubOnly.json()).toEqual({ providers: [{ id: 'github', label: 'GitHub' }] });
    const none = await fetchWithEnv('/api/auth/providers', {
      OIDC_ISSUER: '',
      OIDC_CLIENT_ID: '',
      OIDC_CLIENT_SECRET: '',
      GITHUB_CLIENT_ID: '',
      GITHUB_CLIENT_SECRET: '',
    });
    expect(await none.json()).toEqual({ providers: [] });
  });

  it('answers 404 for a provider that is not configured and refuses an off-site return_to', async () => {
    const unconfigured = await fetchWithEnv('/api/auth/oidc/oidc/start', {
      OIDC_ISSUER: '',
      OIDC_CLIENT_ID: '',
      OIDC_CLIENT_SECRET: '',
    });
    expect(unconfigured.status).toBe(404);
    expect((await unconfigured.json<ErrorBody>()).error.code).toBe('not_found');
    expect((await fetchWorker('/api/auth/oidc/saml/start')).status).toBe(400);
    const offsite = await fetchWorker(
      `/api/auth/oidc/oidc/start?return_to=${encodeURIComponent('//evil.example/')}`,
    );
    expect(offsite.status).toBe(400);
  });
});

// GitHub has no local edition: these run against test/github-oauth-double.ts, a stand-in that
// follows GitHub's documented OAuth and REST behaviour. The OIDC tests above use a real provider.
describe('sign in with GitHub (against a test double of its documented API)', () => {
  interface Email {
    email: string;
    primary: boolean;
    verified: boolean;
  }

  async function githubUser(emails: Email[]) {
    const user = {
      id: Math.floor(Math.random() * 1e9),
      login: `octo-${crypto.randomUUID().slice(0, 8)}`,
      name: null,
      emails,
    };
    const registered = await fetch(`${env.GITHUB_OAUTH_BASE_URL}/_test/users`, {
      method: 'POST',
      body: JSON.stringify(user),
    });
    expect(registered.status).toBe(201);
    return user;
  }

  async function signInWithGitHub(login: string) {
    const started = await start('github');
    expect(
      started.authorizeUrl.href.startsWith(`${env.GITHUB_OAUTH_BASE_URL}/login/oauth/authorize?`),
    ).toBe(true);
    expect(started.authorizeUrl.searchParams.get('scope')).toBe('read:user user:email');
    expect(started.authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    started.authorizeUrl.searchParams.set('login', login);
    const authorized = await fetch(started.authorizeUrl, { redirect: 'manual' });
    expect(authorized.status).toBe(302);
    return callback(location(authorized), started.stateCookie);
  }

  it('creates an account from the verified primary address and reuses the identity after', async () => {
    const email = freshEmail('octo');
    const gh = await githubUser([
      { email: freshEmail('secondary'), primary: false, verified: true },
      { email, primary: true, verified: true },
    ]);
    const user = await signedInUser(await signInWithGitHub(gh.login));
    expect(user).toMatchObject({ email, email_verified: true });
    const [identity] = await identitiesOf(user.id);
    expect(identity).toMatchObject({
      provider: `github:${env.GITHUB_OAUTH_BASE_URL}`,
      subject: String(gh.id),
    });
    expect((await signedInUser(await signInWithGitHub(gh.login))).id).toBe(user.id);
    expect(await identitiesOf(user.id)).toHaveLength(1);
  });

  it('links an existing account only through a verified primary address', async () => {
    const email = await signUpVerified(freshEmail('gh-existing'));
    const owner = await userId(email);

    const secondaryOnly = await githubUser([
      { email: freshEmail('gh-primary'), primary: true, verified: false },
      { email, primary: false, verified: true },
    ]);
    expect((await signInWithGitHub(secondaryOnly.login)).status).toBe(403);
    const unverifiedPrimary = await githubUser([{ email, primary: true, verified: false }]);
    expect((await signInWithGitHub(unverifiedPrimary.login)).status).toBe(403);
    expect(await identitiesOf(owner)).toHaveLength(0);

    const verified = await githubUser([{ email, primary: true, verified: true }]);
    expect((await signedInUser(await signInWithGitHub(verified.login))).id).toBe(owner);
    expect(await identitiesOf(owner)).toHaveLength(1);
  });
});
