import { env } from 'cloudflare:test';
import { expect } from 'vitest';
import { readMailbox } from '../../platform/mail/mailer';
import { fetchWorker } from './harness';

export const PASSWORD = 'correct horse battery staple';

export function freshEmail(label = 'user') {
  return `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
}

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetchWorker(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

export function authed(token: string, init: RequestInit = {}): RequestInit {
  return {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
  };
}

/** The token in the newest mail to `email` whose subject matches. */
export async function mailedToken(email: string, subject: RegExp): Promise<string> {
  const messages = await readMailbox(env.LOGS, email);
  const message = messages.filter((m) => subject.test(m.subject)).at(-1);
  const token = /#token=([A-Za-z0-9_-]+)/.exec(message?.text ?? '')?.[1];
  expect(token, `no mail matching ${subject} for ${email}`).toBeDefined();
  return token!;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  session_id: string;
}

export async function signUpVerified(email = freshEmail()) {
  expect((await postJson('/api/auth/signup', { email, password: PASSWORD })).status).toBe(202);
  const token = await mailedToken(email, /Verify/);
  expect((await postJson('/api/auth/verify-email', { token })).status).toBe(200);
  return email;
}

export async function login(email: string, password = PASSWORD): Promise<TokenPair> {
  const response = await postJson('/api/auth/login', { email, password });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<TokenPair>();
}

export async function newUser(label?: string) {
  const email = await signUpVerified(freshEmail(label));
  return { email, ...(await login(email)) };
}

export async function createWorkspace(
  token: string,
  slug = `ws-${crypto.randomUUID().slice(0, 8)}`,
) {
  const response = await postJson(
    '/api/workspaces',
    { name: 'Acme', slug },
    { authorization: `Bearer ${token}` },
  );
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json<{ id: string; slug: string; role: string }>();
}
