import { expect } from 'vitest';
import { createWorkspace, mailedToken, newUser } from './auth-helpers';
import { fetchWithEnv } from './harness';

/** Who calls: a signed-in user, or a bare bearer token (an access token or a personal one). */
export type Caller = string | { access_token: string };

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  /** The JSON body; undefined when the response has none or it is not JSON. */
  body: T;
  /** The raw body: for assertion messages and for checks that a secret is absent. */
  text: string;
}

/** Bodies sent as they are (uploads, deliberately malformed JSON); anything else goes as JSON. */
function isRaw(body: unknown): body is BodyInit {
  return (
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof ReadableStream ||
    body instanceof FormData ||
    body instanceof Blob
  );
}

interface Target {
  token: string | undefined;
  /** Bindings the Worker sees instead of the test environment's (a production configuration). */
  env: Partial<Env>;
}

async function request<T>(
  { token, env }: Target,
  method: string,
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined && !isRaw(body)) headers['content-type'] = 'application/json';
  const response = await fetchWithEnv(path, env, {
    method,
    headers: { ...headers, ...extraHeaders },
    ...(body === undefined ? {} : { body: isRaw(body) ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/**
 * The API as `caller` sees it (anonymous without one). The type argument names the body the test
 * expects; nothing checks it at run time, the test's assertions do.
 */
export function as(caller?: Caller, { env = {} }: { env?: Partial<Env> } = {}) {
  const target = { token: typeof caller === 'string' ? caller : caller?.access_token, env };
  return {
    send: <T = unknown>(
      method: string,
      path: string,
      body?: unknown,
      headers?: Record<string, string>,
    ) => request<T>(target, method, path, body, headers),
    get: <T = unknown>(path: string, headers?: Record<string, string>) =>
      request<T>(target, 'GET', path, undefined, headers),
    post: <T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) =>
      request<T>(target, 'POST', path, body, headers),
    put: <T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) =>
      request<T>(target, 'PUT', path, body, headers),
    patch: <T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) =>
      request<T>(target, 'PATCH', path, body, headers),
    delete: <T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) =>
      request<T>(target, 'DELETE', path, body, headers),
  };
}

export const anonymous = as();

export interface ErrorEnvelope {
  error: { code: string; message: string; details?: unknown };
  request_id: string;
}

export type Member = Awaited<ReturnType<typeof newUser>> & { id: string };
export type WorkspaceRole = 'viewer' | 'developer' | 'admin';

async function member(label: string): Promise<Member> {
  const user = await newUser(label);
  const me = await as(user).get<{ id: string }>('/api/me');
  expect(me.status, me.text).toBe(200);
  return { ...user, id: me.body.id };
}

/** Invites `user` into the workspace with `role` and has them accept the mailed link. */
export async function join(
  workspaceId: string,
  inviter: Caller,
  user: { email: string; access_token: string },
  role: WorkspaceRole,
) {
  const invited = await as(inviter).post(`/api/workspaces/${workspaceId}/invites`, {
    email: user.email,
    role,
  });
  expect(invited.status, invited.text).toBe(201);
  const token = await mailedToken(user.email, /invited/);
  const accepted = await as(user).post('/api/invites/accept', { token });
  expect(accepted.status, accepted.text).toBe(200);
  return token;
}

export interface Team {
  workspace: { id: string; slug: string };
  owner: Member;
  admin: Member;
  developer: Member;
  viewer: Member;
  /** Signed in and owner of a workspace of their own, but no member of this one. */
  outsider: Member & { workspace: { id: string; slug: string } };
}

/** A workspace with one member of each role, each signed in, and an outsider. */
export async function seedTeam(): Promise<Team> {
  const [owner, admin, developer, viewer, outsider] = await Promise.all(
    ['owner', 'admin', 'developer', 'viewer', 'outsider'].map(member),
  );
  const [workspace, outsiderWorkspace] = await Promise.all([
    createWorkspace(owner!.access_token),
    createWorkspace(outsider!.access_token),
  ]);
  await Promise.all([
    join(workspace.id, owner!, admin!, 'admin'),
    join(workspace.id, owner!, developer!, 'developer'),
    join(workspace.id, owner!, viewer!, 'viewer'),
  ]);
  return {
    workspace,
    owner: owner!,
    admin: admin!,
    developer: developer!,
    viewer: viewer!,
    outsider: { ...outsider!, workspace: outsiderWorkspace },
  };
}
