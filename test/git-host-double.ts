import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import getPort from 'get-port';
import { giteaApi, gitlabApi } from './git-host-api';
import { type Delivery, type PushEvent, pushDeliveries } from './git-host-deliveries';
import {
  type HostProvider,
  type HostRepo,
  type HostRole,
  type HostState,
  json,
} from './git-host-state';
import { serveGit } from './git-http-backend';

/**
 * A stand-in for a GitLab and a Gitea server (no internet here), on one local port: GitLab's
 * REST API under `/api/v4`, Gitea's under `/api/v1`, both as documented for repository
 * webhooks (test/git-host-api.ts), git's smart HTTP at `/{path}.git` for repositories given a
 * git directory, and push deliveries to the hooks as each server sends them.
 *
 * Tests set it up and read it back over `/_test/` (the Worker tests run inside workerd, so they
 * cannot call this object):
 * - `POST /_test/repos` `{provider, path, git_dir?}` → `{id, clone_url, api_url}`
 * - `POST /_test/tokens` `{provider, scopes, access: {path: role}}` → `{token}`
 * - `GET /_test/hooks?provider=&path=` → the repository's hooks, secrets included
 * - `POST /_test/fail` `{provider, path, status}` → every API call on it answers `status`
 * - `POST /_test/push` `{provider, path, ref, after, message?, send?}` → the deliveries the push
 *   makes (`send: true` also POSTs them and adds each answer).
 * Any path under `/moved/` answers 301 to the path without it (a server behind a redirect).
 */
export interface GitHostDouble {
  baseUrl: string;
  state: HostState;
  /** A `POST /_test/{path}` set-up call (`repos`, `tokens`): its answer, which must be a 201. */
  setUp<T>(path: string, body: unknown): Promise<T>;
  /** Delivers a push to the repository's hooks over HTTP, as the server would. */
  push(
    provider: HostProvider,
    path: string,
    event: PushEvent,
  ): Promise<(Delivery & { status: number; answer: string })[]>;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function send(deliveries: Delivery[]) {
  return Promise.all(
    deliveries.map(async (delivery) => {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      });
      return { ...delivery, status: response.status, answer: await response.text() };
    }),
  );
}

export async function startGitHostDouble(): Promise<GitHostDouble> {
  const port = await getPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let lastId = 100;
  const state: HostState = { baseUrl, repos: [], tokens: new Map(), nextId: () => ++lastId };
  const findRepo = (provider: unknown, path: unknown) =>
    state.repos.find((repo) => repo.provider === provider && repo.path === path);

  async function testRoute(method: string, url: URL, req: IncomingMessage) {
    const body = method === 'GET' ? undefined : await readJson(req);
    const key = `${method} ${url.pathname}`;
    if (key === 'POST /_test/repos') {
      const repo: HostRepo = {
        provider: body?.provider as HostProvider,
        path: String(body?.path),
        id: state.nextId(),
        hooks: [],
        ...(typeof body?.git_dir === 'string' ? { gitDir: body.git_dir } : {}),
      };
      state.repos.push(repo);
      const api = repo.provider === 'gitlab' ? '/api/v4' : '/api/v1';
      return [
        201,
        { id: repo.id, clone_url: `${baseUrl}/${repo.path}.git`, api_url: `${baseUrl}${api}` },
      ] as const;
    }
    if (key === 'POST /_test/tokens') {
      const token = `${body?.provider === 'gitlab' ? 'glpat-' : ''}${randomBytes(20).toString('hex')}`;
      state.tokens.set(token, {
        provider: body?.provider as HostProvider,
        token,
        scopes: (body?.scopes as string[]) ?? [],
        access: (body?.access as Record<string, HostRole>) ?? {},
      });
      return [201, { token }] as const;
    }
    const repo = findRepo(
      body?.provider ?? url.searchParams.get('provider'),
      body?.path ?? url.searchParams.get('path'),
    );
    if (!repo) return [404, { message: 'no such repository' }] as const;
    if (key === 'GET /_test/hooks') return [200, repo.hooks] as const;
    if (key === 'POST /_test/fail') {
      repo.failWith = Number(body?.status) || undefined;
      return [200, {}] as const;
    }
    if (key === 'POST /_test/push') {
      const deliveries = pushDeliveries(baseUrl, repo, body as unknown as PushEvent);
      return [200, body?.send ? await send(deliveries) : deliveries] as const;
    }
    return [404, { message: 'unknown test route' }] as const;
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', baseUrl);
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/moved/')) {
      res.writeHead(301, { location: `${baseUrl}${url.pathname.slice('/moved'.length)}` }).end();
      return;
    }
    if (url.pathname.startsWith('/_test/')) {
      testRoute(method, url, req)
        .then(([status, body]) => json(res, status, body))
        .catch((error: Error) => json(res, 500, { message: error.message }));
      return;
    }
    const git = /^\/(.+?\.git)(\/.*)$/.exec(url.pathname);
    const served = git && state.repos.find((repo) => `${repo.path}.git` === git[1] && repo.gitDir);
    if (git && served?.gitDir) return serveGit(served.gitDir, git[2]!, url, req, res);
    readJson(req)
      .then((body) => {
        const call = { method, url, req, res, body };
        if (!gitlabApi(state, call) && !giteaApi(state, call)) {
          json(res, 404, { message: '404 Not Found' });
        }
      })
      .catch((error: Error) => json(res, 500, { message: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    baseUrl,
    state,
    async setUp<T>(path: string, body: unknown) {
      const response = await fetch(`${baseUrl}/_test/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status !== 201) {
        throw new Error(`set-up ${path} answered ${response.status}: ${await response.text()}`);
      }
      return (await response.json()) as T;
    },
    push: (provider, path, event) => {
      const repo = findRepo(provider, path);
      if (!repo) throw new Error(`no repository ${provider}:${path}`);
      return send(pushDeliveries(baseUrl, repo, event));
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
