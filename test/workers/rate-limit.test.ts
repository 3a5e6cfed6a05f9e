import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/digest';
import { API_QUOTA_PER_MINUTE, AUTH_RATE_LIMITS } from '../../core/rate-limits';
import { apiTokens, users, workspaces } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import { PAT_PREFIX } from '../../workers/auth/principal';
import { authed, freshEmail, PASSWORD, postJson, signUpVerified } from './auth-helpers';
import { fetchWithEnv, fetchWorker, testDb } from './harness';
import { expectRateLimited, freshIp, roomInWindow } from './rate-limit-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

const NO_REDIS = { UPSTASH_REDIS_REST_URL: '', UPSTASH_REDIS_REST_TOKEN: '' };

function login(email: string, password: string, ip: string) {
  return postJson('/api/auth/login', { email, password }, { 'cf-connecting-ip': ip });
}

/** A user with a personal access token in a workspace on `plan`, written straight to the tables. */
async function patOnPlan(plan: 'free' | 'pro' | 'team') {
  const suffix = crypto.randomUUID().slice(0, 8);
  const [user] = await db
    .insert(users)
    .values({ email: freshEmail('quota'), emailVerifiedAt: new Date() })
    .returning();
  const [workspace] = await db
    .insert(workspaces)
    .values({ name: `Quota ${suffix}`, slug: `quota-${suffix}`, plan })
    .returning();
  const token = randomSecret(PAT_PREFIX);
  await db.insert(apiTokens).values({
    userId: user!.id,
    workspaceId: workspace!.id,
    name: 'ci',
    prefix: token.slice(0, 12),
    tokenHash: await sha256Hex(token),
    scopes: ['read'],
  });
  return token;
}

describe('login limits', { timeout: 60_000 }, () => {
  it('answers the 6th rapid wrong password for one account with 429, whatever the address', async () => {
    const email = await signUpVerified();
    const { limit, windowSeconds } = AUTH_RATE_LIMITS.login.account;
    await roomInWindow(windowSeconds);
    for (let attempt = 1; attempt <= limit; attempt++) {
      // The account is the normalised email: case does not open a fresh counter.
      const spelled = attempt % 2 ? email : email.toUpperCase();
      const response = await login(spelled, 'not the password', freshIp());
      expect(response.status, `attempt ${attempt}`).toBe(401);
      expect(response.headers.get('ratelimit-remaining')).toBe(String(limit - attempt));
    }
    await expectRateLimited(
      await login(email, 'not the password', freshIp()),
      'login:account',
      limit,
    );
    // Locked means locked: the right password does not get through either until the window moves.
    await expectRateLimited(await login(email, PASSWORD, freshIp()), 'login:account', limit);
  });

  it('counts only failures against the account, so signing in often never locks anyone out', async () => {
    const email = await signUpVerified();
    const ip = freshIp();
    const { limit, windowSeconds } = AUTH_RATE_LIMITS.login.account;
    await roomInWindow(windowSeconds);
    for (let i = 0; i < limit - 1; i++) {
      expect((await login(email, 'not the password', ip)).status).toBe(401);
    }
    for (let i = 0; i < 3; i++) {
      const success = await login(email, PASSWORD, ip);
      expect(success.status).toBe(200);
      expect(success.headers.get('ratelimit-remaining')).toBe('1');
    }
    expect((await login(email, 'not the password', ip)).status).toBe(401);
    await expectRateLimited(await login(email, 'not the password', ip), 'login:account', limit);
  });

  it('limits one address across many accounts', async () => {
    const ip = freshIp();
    const { limit, windowSeconds } = AUTH_RATE_LIMITS.login.ip;
    await roomInWindow(windowSeconds);
    for (let i = 0; i < limit; i++) {
      expect((await login(freshEmail('spray'), 'not the password', ip)).status).toBe(401);
    }
    await expectRateLimited(
      await login(freshEmail('spray'), 'not the password', ip),
      'login:ip',
      limit,
    );
    expect((await login(freshEmail('spray'), 'not the password', freshIp())).status).toBe(401);
  });
});

describe('signup and password reset limits', { timeout: 60_000 }, () => {
  it('limits signups per address', async () => {
    const ip = freshIp();
    const { limit, windowSeconds } = AUTH_RATE_LIMITS.signup.ip;
    await roomInWindow(windowSeconds);
    const signup = (from: string) =>
      postJson(
        '/api/auth/signup',
        { email: freshEmail('bulk'), password: PASSWORD },
        { 'cf-connecting-ip': from },
      );
    for (let i = 0; i < limit; i++) expect((await signup(ip)).status).toBe(202);
    await expectRateLimited(await signup(ip), 'signup:ip', limit);
    expect((await signup(freshIp())).status).toBe(202);
  });

  it('limits reset mails per account, so nobody can flood an inbox', async () => {
    const email = freshEmail('reset');
    const { limit, windowSeconds } = AUTH_RATE_LIMITS.password_reset.account;
    await roomInWindow(windowSeconds);
    const reset = () =>
      postJson('/api/auth/password-reset', { email }, { 'cf-connecting-ip': freshIp() });
    for (let i = 0; i < limit; i++) expect((await reset()).status).toBe(202);
    await expectRateLimited(await reset(), 'password_reset:account', limit);
  });
});

describe('API quotas per token', { timeout: 60_000 }, () => {
  async function spend(token: string, count: number) {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      statuses.push((await fetchWorker('/api/me', authed(token))).status);
    }
    return statuses;
  }

  it('gives a free workspace’s token fewer requests per minute than a pro one', async () => {
    const free = await patOnPlan('free');
    const pro = await patOnPlan('pro');
    const freeLimit = API_QUOTA_PER_MINUTE.free;
    await roomInWindow(60);

    const first = await fetchWorker('/api/me', authed(pro));
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe(String(API_QUOTA_PER_MINUTE.pro));

    expect(await spend(free, freeLimit)).toEqual(Array(freeLimit).fill(200));
    await expectRateLimited(await fetchWorker('/api/me', authed(free)), 'api:free', freeLimit);
    expect(await spend(pro, freeLimit)).toEqual(Array(freeLimit).fill(200));
  });

  it('leaves session-authenticated requests out of the token quota', async () => {
    const email = await signUpVerified();
    const { access_token } = await (
      await postJson('/api/auth/login', { email, password: PASSWORD })
    ).json<{ access_token: string }>();
    const response = await fetchWorker('/api/me', authed(access_token));
    expect(response.status).toBe(200);
    expect(response.headers.get('ratelimit-limit')).toBeNull();
  });
});

describe('without Redis', { timeout: 60_000 }, () => {
  it('lets every request through and does not fail', async () => {
    const email = await signUpVerified();
    const ip = freshIp();
    const attempt = () =>
      fetchWithEnv('/api/auth/login', NO_REDIS, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
        body: JSON.stringify({ email, password: 'not the password' }),
      });
    for (let i = 0; i <= AUTH_RATE_LIMITS.login.account.limit + 1; i++) {
      const response = await attempt();
      expect(response.status).toBe(401);
      expect(response.headers.get('ratelimit-limit')).toBeNull();
    }
    const token = await patOnPlan('free');
    const viaToken = await fetchWithEnv('/api/me', NO_REDIS, authed(token));
    expect(viaToken.status).toBe(200);
    expect(viaToken.headers.get('ratelimit-limit')).toBeNull();
  });
});
