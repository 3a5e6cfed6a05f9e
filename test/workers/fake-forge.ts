import { importSPKI, jwtVerify } from 'jose';

export const GITHUB_API = 'https://github.test';
export const GITLAB_API = 'https://gitlab.example.com/api/v4';
export const GITEA_API = 'https://gitea.example.com/api/v1';
export const INSTALLATION_TOKEN = 'ghs_installation';
export const GITLAB_TOKEN = 'glpat-secret';
export const GITEA_TOKEN = 'gitea-secret';

export interface ForgeRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: Record<string, unknown> | undefined;
}

export interface ForgeStatus {
  provider: 'github' | 'gitlab' | 'gitea';
  repo: string;
  sha: string;
  state: string;
  context: string;
  description: string;
  targetUrl: string | undefined;
}

export interface ForgeComment {
  id: number;
  body: string;
  /** GitLab's notes written by the system (pushes, label changes). */
  system?: boolean;
}

interface Options {
  /** The GitHub App the installation token is issued to. */
  app?: { id: string; publicKeyPem: string; installationId: number };
  /** An answer status to give instead of the documented one (a provider that is down, refuses). */
  fail?: (request: ForgeRequest) => number | undefined;
  /** Runs when a commit status is stored, before the answer (to change things meanwhile). */
  onStatus?: (status: ForgeStatus) => Promise<void>;
}

const GITHUB_STATES = ['error', 'failure', 'pending', 'success'];
const GITLAB_STATES = ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'];
const GITEA_STATES = ['pending', 'success', 'error', 'failure', 'warning'];

/**
 * GitHub's, GitLab's and Gitea's documented REST endpoints for commit statuses and pull (merge)
 * request comments, kept in memory: GitHub's App token exchange, its issue comments paginated
 * (`per_page`, `page`, a `Link` header), GitLab's statuses as query parameters and its notes
 * paginated the same way, Gitea's comment listing unpaginated. Each checks its own auth.
 */
export function fakeForge(options: Options = {}) {
  const seen: ForgeRequest[] = [];
  const statuses: ForgeStatus[] = [];
  const threads = new Map<string, ForgeComment[]>();
  let nextId = 1000;

  const thread = (key: string) => {
    let comments = threads.get(key);
    if (!comments) {
      comments = [];
      threads.set(key, comments);
    }
    return comments;
  };
  const findComment = (prefix: string, id: number) => {
    for (const [key, comments] of threads) {
      if (!key.startsWith(prefix)) continue;
      const comment = comments.find((candidate) => candidate.id === id);
      if (comment) return comment;
    }
    return undefined;
  };
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    Response.json(body, { status, headers });

  /** One page of a list and, unless it is the last, the Link header pointing at the next. */
  const page = (url: URL, items: unknown[], maxPerPage: number) => {
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), maxPerPage);
    const current = Number(url.searchParams.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const headers: Record<string, string> = {};
    if (current < last) {
      const next = new URL(url);
      next.searchParams.set('page', String(current + 1));
      const lastUrl = new URL(url);
      lastUrl.searchParams.set('page', String(last));
      headers.link = `<${next}>; rel="next", <${lastUrl}>; rel="last"`;
    }
    return json(items.slice((current - 1) * perPage, current * perPage), 200, headers);
  };

  async function github(request: ForgeRequest): Promise<Response> {
    const { method, url, body } = request;
    const auth = request.headers.get('authorization') ?? '';
    const tokenPath = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
    if (tokenPath && method === 'POST') {
      const app = options.app;
      if (!app || Number(tokenPath[1]) !== app.installationId) {
        return json({ message: 'Not Found' }, 404);
      }
      try {
        const { payload } = await jwtVerify(
          auth.replace(/^Bearer /, ''),
          await importSPKI(app.publicKeyPem, 'RS256'),
          { issuer: app.id, algorithms: ['RS256'] },
        );
        if ((payload.exp ?? 0) - (payload.iat ?? 0) > 600) throw new Error('too long');
      } catch {
        return json({ message: 'A JSON web token could not be decoded' }, 401);
      }
      return json({ token: INSTALLATION_TOKEN, expires_at: '2030-01-01T00:00:00Z' }, 201);
    }
    if (auth !== `Bearer ${INSTALLATION_TOKEN}`) return json({ message: 'Bad credentials' }, 401);
    const status = /^\/repos\/([^/]+\/[^/]+)\/statuses\/([0-9a-f]{40})$/.exec(url.pathname);
    if (status && method === 'POST') {
      if (!GITHUB_STATES.includes(String(body?.state))) {
        return json({ message: 'Validation Failed' }, 422);
      }
      return storeStatus(
        {
          provider: 'github',
          repo: status[1]!,
          sha: status[2]!,
          state: String(body?.state),
          context: String(body?.context ?? 'default'),
          description: String(body?.description ?? ''),
          targetUrl: body?.target_url as string | undefined,
        },
        201,
      );
    }
    const issue = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
    if (issue) {
      const comments = thread(`github:${issue[1]}#${issue[2]}`);
      if (method === 'GET') return page(url, comments, 100);
      if (method === 'POST' && typeof body?.body === 'string') {
        const comment = { id: nextId++, body: body.body };
        comments.push(comment);
        return json(comment, 201);
      }
      return json({ message: 'Validation Failed' }, 422);
    }
    const edit = /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (edit && method === 'PATCH') {
      const comment = findComment(`github:${edit[1]}#`, Number(edit[2]));
      if (!comment) return json({ message: 'Not Found' }, 404);
      if (typeof body?.body !== 'string') return json({ message: 'Validation Failed' }, 422);
      comment.body = body.body;
      return json(comment, 200);
    }
    return json({ message: 'Not Found' }, 404);
  }

  async function gitlab(request: ForgeRequest): Promise<Response> {
    const { method, url, body } = request;
    if (request.headers.get('private-token') !== GITLAB_TOKEN) {
      return json({ message: '401 Unauthorized' }, 401);
    }
    // The project path arrives URL-encoded in one segment (`acme%2Fsite`).
    const path = url.pathname.replace(/^\/api\/v4/, '');
    const status = /^\/projects\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(path);
    if (status && method === 'POST') {
      const state = url.searchParams.get('state') ?? '';
      if (!GITLAB_STATES.includes(state)) return json({ message: 'state is invalid' }, 400);
      return storeStatus(
        {
          provider: 'gitlab',
          repo: decodeURIComponent(status[1]!),
          sha: status[2]!,
          state,
          context: url.searchParams.get('name') ?? 'default',
          description: url.searchParams.get('description') ?? '',
          targetUrl: url.searchParams.get('target_url') ?? undefined,
        },
        201,
      );
    }
    const notes = /^\/projects\/([^/]+)\/merge_requests\/(\d+)\/notes(?:\/(\d+))?$/.exec(path);
    if (notes) {
      const key = `gitlab:${decodeURIComponent(notes[1]!)}!${notes[2]}`;
      const comments = thread(key);
      if (notes[3]) {
        if (method !== 'PUT') return json({ message: '405 Method Not Allowed' }, 405);
        const note = comments.find((candidate) => candidate.id === Number(notes[3]));
        if (!note) return json({ message: '404 Not found' }, 404);
        if (typeof body?.body !== 'string') return json({ error: 'body is missing' }, 400);
        note.body = body.body;
        return json(note, 200);
      }
      if (method === 'GET') return page(url, comments, 100);
      if (method === 'POST' && typeof body?.body === 'string') {
        const note = { id: nextId++, body: body.body, system: false };
        comments.push(note);
        return json(note, 201);
      }
      return json({ error: 'body is missing' }, 400);
    }
    return json({ message: '404 Not Found' }, 404);
  }

  async function gitea(request: ForgeRequest): Promise<Response> {
    const { method, url, body } = request;
    if (request.headers.get('authorization') !== `token ${GITEA_TOKEN}`) {
      return json({ message: 'user does not exist' }, 401);
    }
    const path = url.pathname.replace(/^\/api\/v1/, '');
    const status = /^\/repos\/([^/]+\/[^/]+)\/statuses\/([0-9a-f]{40})$/.exec(path);
    if (status && method === 'POST') {
      if (!GITEA_STATES.includes(String(body?.state))) return json({ message: 'invalid' }, 422);
      return storeStatus(
        {
          provider: 'gitea',
          repo: status[1]!,
          sha: status[2]!,
          state: String(body?.state),
          context: String(body?.context ?? ''),
          description: String(body?.description ?? ''),
          targetUrl: body?.target_url as string | undefined,
        },
        201,
      );
    }
    const issue = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(path);
    if (issue) {
      const comments = thread(`gitea:${issue[1]}#${issue[2]}`);
      // Gitea lists an issue's comments whole, with their count in X-Total-Count.
      if (method === 'GET') {
        return json(comments, 200, { 'x-total-count': String(comments.length) });
      }
      if (method === 'POST' && typeof body?.body === 'string') {
        const comment = { id: nextId++, body: body.body };
        comments.push(comment);
        return json(comment, 201);
      }
      return json({ message: 'invalid' }, 422);
    }
    const edit = /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/.exec(path);
    if (edit && method === 'PATCH') {
      const comment = findComment(`gitea:${edit[1]}#`, Number(edit[2]));
      if (!comment) return json({ message: 'not found' }, 404);
      if (typeof body?.body !== 'string') return json({ message: 'invalid' }, 422);
      comment.body = body.body;
      return json(comment, 200);
    }
    return json({ message: 'not found' }, 404);
  }

  async function storeStatus(status: ForgeStatus, code: number) {
    statuses.push(status);
    await options.onStatus?.(status);
    return json({ id: nextId++, state: status.state, context: status.context }, code);
  }

  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const text = await request.text();
    const seenRequest: ForgeRequest = {
      method: request.method,
      url,
      headers: request.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
    seen.push(seenRequest);
    const failure = options.fail?.(seenRequest);
    if (failure !== undefined) return json({ message: 'failed on purpose' }, failure);
    if (url.origin === new URL(GITHUB_API).origin) return github(seenRequest);
    if (url.origin === new URL(GITLAB_API).origin) return gitlab(seenRequest);
    if (url.origin === new URL(GITEA_API).origin) return gitea(seenRequest);
    return json({ message: `no forge at ${url.origin}` }, 502);
  };

  return {
    fetch,
    seen,
    statuses,
    /** The comments of one pull request: `github:owner/repo#7`, `gitlab:owner/repo!7`, `gitea:…#7`. */
    comments: thread,
    handles: (url: string) =>
      [GITHUB_API, GITLAB_API, GITEA_API].some(
        (api) => new URL(url).origin === new URL(api).origin,
      ),
  };
}
