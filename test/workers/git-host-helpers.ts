import { expect, inject } from 'vitest';
import type { HostHook } from '../git-host-state';
import { as, type Caller } from './api-client';
import { fetchWorker } from './harness';

/** The GitLab/Gitea stand-in the global setup started (test/git-host-double.ts). */
export const gitHost = inject('gitHostUrl');

export type HostProvider = 'gitlab' | 'gitea';

/** A hook as the stand-in holds it, secret included. */
export type StoredHook = HostHook;

export interface Delivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

async function testCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${gitHost}/_test/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.ok, `${method} /_test/${path}: ${response.status}`).toBe(true);
  return response.json<T>();
}

/** A repository on the stand-in under a fresh path, and its URLs. */
export async function hostRepo(provider: HostProvider) {
  const path = `team-${crypto.randomUUID().slice(0, 8)}/site`;
  const repo = await testCall<{ id: number; clone_url: string; api_url: string }>('POST', 'repos', {
    provider,
    path,
  });
  return { path, ...repo };
}

/** An access token on the stand-in with `scopes` and a role on each repository of `access`. */
export async function hostToken(
  provider: HostProvider,
  scopes: string[],
  access: Record<string, string>,
): Promise<string> {
  return (await testCall<{ token: string }>('POST', 'tokens', { provider, scopes, access })).token;
}

/** The token each provider's docs ask for: GitLab `api` as Maintainer, Gitea repository admin. */
export function goodToken(provider: HostProvider, path: string) {
  return provider === 'gitlab'
    ? hostToken('gitlab', ['api'], { [path]: 'maintainer' })
    : hostToken('gitea', ['write:repository'], { [path]: 'admin' });
}

export function storedHooks(provider: HostProvider, path: string) {
  const query = new URLSearchParams({ provider, path });
  return testCall<StoredHook[]>('GET', `hooks?${query}`);
}

export function failRepo(provider: HostProvider, path: string, status: number) {
  return testCall('POST', 'fail', { provider, path, status });
}

/** The deliveries the stand-in makes for a push, handed to the Worker at the hook's URL. */
export async function deliverPush(
  provider: HostProvider,
  path: string,
  push: { ref: string; after: string },
) {
  const deliveries = await testCall<Delivery[]>('POST', 'push', { provider, path, ...push });
  return Promise.all(
    deliveries.map(async (delivery) => {
      const target = new URL(delivery.url);
      const response = await fetchWorker(target.pathname, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      });
      return { status: response.status, body: await response.json<Record<string, unknown>>() };
    }),
  );
}

/** A workspace owner's project on a stand-in repository. */
export async function hookProject(owner: Caller, workspaceId: string, provider: HostProvider) {
  const repo = await hostRepo(provider);
  const created = await as(owner).post<{ id: string; webhook_secret: string }>(
    `/api/workspaces/${workspaceId}/projects`,
    {
      name: 'Site',
      slug: `site-${crypto.randomUUID().slice(0, 8)}`,
      git_provider: provider,
      repo_url: repo.clone_url,
    },
  );
  expect(created.status, created.text).toBe(201);
  return { repo, project: created.body };
}
