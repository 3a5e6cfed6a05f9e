import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { freshEmail, PASSWORD, postJson, signUpVerified } from './auth-helpers';
import { fetchWorker } from './harness';

async function cookieLogin() {
  const email = await signUpVerified(freshEmail('web'));
  const response = await postJson('/api/auth/login', {
    email,
    password: PASSWORD,
    session: 'cookie',
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return { email, response };
}

/** `name=value` pairs to send back, as a browser would. */
function cookieHeader(response: Response) {
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

function createWorkspace(cookie: string, origin?: string) {
  return fetchWorker('/api/workspaces', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      cookie,
      ...(origin ? { origin } : {}),
    },
    body: JSON.stringify({ name: 'Web', slug: `web-${crypto.randomUUID().slice(0, 8)}` }),
  });
}

describe('dashboard cookie sessions', () => {
  it('sets __Host- HttpOnly Secure SameSite cookies and keeps tokens out of the body', async () => {
    const { response } = await cookieLogin();
    const cookies = response.headers.getSetCookie();
    expect(cookies.map((cookie) => cookie.split('=')[0]).sort()).toEqual([
      '__Host-sparki_at',
      '__Host-sparki_rt',
    ]);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; SameSite=Lax/);
      expect(cookie).toMatch(/; Path=\//);
      expect(cookie).not.toMatch(/Domain=/i);
    }
    const body = await response.text();
    expect(body).not.toContain('access_token');
    expect(body).not.toContain('refresh_token');
  });

  it('authenticates reads by cookie and refuses cross-site mutations', async () => {
    const { email, response } = await cookieLogin();
    const cookie = cookieHeader(response);
    const me = await fetchWorker('/api/me', { headers: { cookie } });
    expect(me.status).toBe(200);
    expect((await me.json<{ email: string }>()).email).toBe(email);

    const noOrigin = await createWorkspace(cookie);
    expect(noOrigin.status).toBe(403);
    const evil = await createWorkspace(cookie, 'https://evil.example');
    expect(evil.status).toBe(403);
    expect((await evil.json<{ error: { code: string } }>()).error.code).toBe('forbidden');
    const own = await createWorkspace(cookie, new URL(env.PUBLIC_URL).origin);
    expect(own.status).toBe(201);
  });
});

describe('a stale session cookie', () => {
  it('leaves the browser anonymous, so it can sign in again', async () => {
    const { email, response } = await cookieLogin();
    const cookie = cookieHeader(response);
    const logout = await fetchWorker('/api/auth/logout', {
      method: 'POST',
      headers: { cookie, origin: new URL(env.PUBLIC_URL).origin },
    });
    expect(logout.status).toBe(204);

    const me = await fetchWorker('/api/me', { headers: { cookie } });
    expect(me.status).toBe(401);
    const again = await fetchWorker('/api/auth/login', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie,
        origin: new URL(env.PUBLIC_URL).origin,
      },
      body: JSON.stringify({ email, password: PASSWORD, session: 'cookie' }),
    });
    expect(again.status).toBe(200);
  });
});
