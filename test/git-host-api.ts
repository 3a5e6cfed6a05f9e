import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type HostHook,
  type HostProvider,
  type HostRepo,
  type HostState,
  type HostToken,
  json,
  paged,
} from './git-host-state';

/**
 * The repository hook endpoints of GitLab (REST v4, "Project webhooks") and Gitea/Forgejo
 * (API v1, "repoListHooks" and the rest), with their documented authentication, permission
 * checks and error bodies.
 */

interface Call {
  method: string;
  url: URL;
  req: IncomingMessage;
  res: ServerResponse;
  body: Record<string, unknown> | undefined;
}

const now = () => new Date().toISOString();

function bearer(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  return auth ? /^(?:bearer|token)\s+(.+)$/i.exec(auth)?.[1] : undefined;
}

function tokenOf(state: HostState, provider: HostProvider, req: IncomingMessage) {
  const given =
    provider === 'gitlab'
      ? ((req.headers['private-token'] as string | undefined) ?? bearer(req))
      : bearer(req);
  const token = given ? state.tokens.get(given) : undefined;
  return token?.provider === provider ? token : undefined;
}

// ---- GitLab ----

const GITLAB_EVENTS = [
  ['push_events', 'push'],
  ['tag_push_events', 'tag_push'],
  ['merge_request_events', 'merge_request'],
] as const;

function gitlabHook(repo: HostRepo, hook: HostHook) {
  return {
    id: hook.id,
    url: hook.url,
    project_id: repo.id,
    ...Object.fromEntries(
      GITLAB_EVENTS.map(([field, event]) => [field, hook.events.includes(event)]),
    ),
    enable_ssl_verification: hook.enableSslVerification,
    alert_status: 'executable',
    created_at: hook.createdAt,
  };
}

function gitlabSettings(body: Record<string, unknown>, hook: Partial<HostHook> = {}) {
  const events = GITLAB_EVENTS.filter(([field, event]) =>
    field in body ? body[field] === true : (hook.events ?? ['push']).includes(event),
  ).map(([, event]) => event);
  return {
    url: String(body.url ?? hook.url),
    secret: typeof body.token === 'string' ? body.token : (hook.secret ?? ''),
    events,
    enableSslVerification:
      typeof body.enable_ssl_verification === 'boolean'
        ? body.enable_ssl_verification
        : (hook.enableSslVerification ?? true),
  };
}

function badUrl(url: unknown): boolean {
  try {
    return !['http:', 'https:'].includes(new URL(String(url)).protocol);
  } catch {
    return true;
  }
}

export function gitlabApi(state: HostState, call: Call): boolean {
  const match = /^\/api\/v4\/projects\/([^/]+)\/hooks(?:\/(\d+))?$/.exec(call.url.pathname);
  if (!match) return false;
  return gitlabHooks(state, call, match);
}

function gitlabHooks(state: HostState, call: Call, match: RegExpExecArray): true {
  const { res, method } = call;
  const token = tokenOf(state, 'gitlab', call.req);
  if (!token) return json(res, 401, { message: '401 Unauthorized' });
  const ref = decodeURIComponent(match[1]!);
  const repo = state.repos.find(
    (r) => r.provider === 'gitlab' && (r.path === ref || String(r.id) === ref),
  );
  const role = repo ? token.access[repo.path] : undefined;
  if (!repo || !role) return json(res, 404, { message: '404 Project Not Found' });
  if (repo.failWith) return json(res, repo.failWith, { message: 'Internal Server Error' });
  const writing = method !== 'GET';
  if (!token.scopes.includes('api') && (writing || !token.scopes.includes('read_api'))) {
    json(res, 403, {
      error: 'insufficient_scope',
      error_description:
        'The request requires higher privileges than provided by the access token.',
      scope: 'api',
    });
    return true;
  }
  if (role !== 'maintainer') return json(res, 403, { message: '403 Forbidden' });
  const hookId = match[2] ? Number(match[2]) : undefined;
  if (hookId === undefined) {
    if (method === 'GET') {
      const { slice, headers } = paged(repo.hooks, call.url, 'per_page', 20, 100);
      return json(
        res,
        200,
        slice.map((hook) => gitlabHook(repo, hook)),
        headers,
      );
    }
    if (method !== 'POST') return json(res, 405, { message: '405 Method Not Allowed' });
    const body = call.body ?? {};
    if (!body.url) return json(res, 400, { error: 'url is missing' });
    if (badUrl(body.url)) {
      json(res, 422, { message: { url: ['is blocked: Only allowed schemes are http, https'] } });
      return true;
    }
    const hook: HostHook = {
      id: state.nextId(),
      ...gitlabSettings(body),
      active: true,
      contentType: 'json',
      createdAt: now(),
      updatedAt: now(),
    };
    repo.hooks.push(hook);
    return json(res, 201, gitlabHook(repo, hook));
  }
  const hook = repo.hooks.find((h) => h.id === hookId);
  if (!hook) return json(res, 404, { message: '404 Not found' });
  if (method === 'GET') return json(res, 200, gitlabHook(repo, hook));
  if (method === 'PUT') {
    const body = call.body ?? {};
    if (!body.url) return json(res, 400, { error: 'url is missing' });
    Object.assign(hook, gitlabSettings(body, hook), { updatedAt: now() });
    return json(res, 200, gitlabHook(repo, hook));
  }
  if (method === 'DELETE') {
    repo.hooks.splice(repo.hooks.indexOf(hook), 1);
    res.writeHead(204).end();
    return true;
  }
  return json(res, 405, { message: '405 Method Not Allowed' });
}

// ---- Gitea ----

function giteaHook(hook: HostHook) {
  return {
    id: hook.id,
    type: 'gitea',
    branch_filter: '*',
    config: { url: hook.url, content_type: hook.contentType, http_method: 'post' },
    events: hook.events,
    authorization_header: '',
    active: hook.active,
    updated_at: hook.updatedAt,
    created_at: hook.createdAt,
  };
}

/** Gitea's `CreateHookOption` / `EditHookOption` checks; the 422 message, or the settings. */
function giteaSettings(body: Record<string, unknown>, creating: boolean, hook?: HostHook) {
  const config = (body.config ?? {}) as Record<string, unknown>;
  if (creating && !['gitea', 'forgejo', 'gogs', 'slack', 'discord'].includes(String(body.type))) {
    return { problem: 'Invalid hook type' };
  }
  const url = config.url ?? hook?.url;
  const contentType = config.content_type ?? hook?.contentType;
  if (creating && !url) return { problem: 'Missing config option: url' };
  if (creating && !contentType) return { problem: 'Missing config option: content_type' };
  if (!['json', 'form'].includes(String(contentType))) return { problem: 'Invalid content type' };
  return {
    settings: {
      url: String(url),
      contentType: String(contentType),
      secret: typeof config.secret === 'string' ? config.secret : (hook?.secret ?? ''),
      events: Array.isArray(body.events) ? body.events.map(String) : (hook?.events ?? ['push']),
      active: typeof body.active === 'boolean' ? body.active : (hook?.active ?? false),
    },
  };
}

function giteaScopeMissing(res: ServerResponse, token: HostToken, writing: boolean) {
  const needed = writing ? ['write:repository'] : ['read:repository', 'write:repository'];
  if (token.scopes.some((scope) => needed.includes(scope) || scope === 'all')) return false;
  json(res, 403, {
    message: `token does not have at least one of required scope(s): [${writing ? 'write' : 'read'}:repository]`,
    url: 'https://docs.gitea.com/development/api-usage',
  });
  return true;
}

export function giteaApi(state: HostState, call: Call): boolean {
  const match = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/hooks(?:\/(\d+))?$/.exec(call.url.pathname);
  if (!match) return false;
  return giteaHooks(state, call, match);
}

function giteaHooks(state: HostState, call: Call, match: RegExpExecArray): true {
  const { res, method } = call;
  const token = tokenOf(state, 'gitea', call.req);
  if (!token) return json(res, 401, { message: 'token is required', url: state.baseUrl });
  const path = `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`;
  const repo = state.repos.find((r) => r.provider === 'gitea' && r.path === path);
  const role = repo ? token.access[repo.path] : undefined;
  const notFound = { errors: null, message: "The target couldn't be found.", url: state.baseUrl };
  if (!repo || !role) return json(res, 404, notFound);
  if (repo.failWith) return json(res, repo.failWith, { message: 'internal error' });
  if (giteaScopeMissing(res, token, method !== 'GET')) return true;
  if (role !== 'admin') return json(res, 403, { message: 'user should be the repo admin' });
  const hookId = match[3] ? Number(match[3]) : undefined;
  if (hookId === undefined) {
    if (method === 'GET') {
      const { slice, headers } = paged(repo.hooks, call.url, 'limit', 30, 50);
      return json(res, 200, slice.map(giteaHook), headers);
    }
    if (method !== 'POST') return json(res, 405, { message: 'Method Not Allowed' });
    const checked = giteaSettings(call.body ?? {}, true);
    if (!checked.settings) return json(res, 422, { message: checked.problem });
    const hook: HostHook = {
      id: state.nextId(),
      ...checked.settings,
      enableSslVerification: true,
      createdAt: now(),
      updatedAt: now(),
    };
    repo.hooks.push(hook);
    return json(res, 201, giteaHook(hook));
  }
  const hook = repo.hooks.find((h) => h.id === hookId);
  if (!hook) return json(res, 404, notFound);
  if (method === 'GET') return json(res, 200, giteaHook(hook));
  if (method === 'PATCH') {
    const checked = giteaSettings(call.body ?? {}, false, hook);
    if (!checked.settings) return json(res, 422, { message: checked.problem });
    Object.assign(hook, checked.settings, { updatedAt: now() });
    return json(res, 200, giteaHook(hook));
  }
  if (method === 'DELETE') {
    repo.hooks.splice(repo.hooks.indexOf(hook), 1);
    res.writeHead(204).end();
    return true;
  }
  return json(res, 405, { message: 'Method Not Allowed' });
}
