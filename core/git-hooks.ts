import { z } from 'zod';

/**
 * The repository webhook Sparki creates on a GitLab or Gitea/Forgejo server with a token the user
 * supplies (docs/webhooks.md, "Created by Sparki"): where the API is, what the hook says, and how
 * Sparki recognises its own hook among the repository's.
 */
export type HookProvider = 'gitlab' | 'gitea';

export const HOOK_PROVIDERS = ['gitlab', 'gitea'] as const;

export const PROVIDER_NAME: Record<HookProvider, string> = { gitlab: 'GitLab', gitea: 'Gitea' };

/** The scope a token needs to manage a repository's hooks, named as each provider names it. */
export const HOOK_TOKEN_SCOPE: Record<HookProvider, string> = {
  gitlab: 'api',
  gitea: 'write:repository',
};

/** The role on the repository that may manage its hooks. */
export const HOOK_ROLE: Record<HookProvider, string> = {
  gitlab: 'Maintainer',
  gitea: 'admin',
};

const API_PATH: Record<HookProvider, string> = { gitlab: '/api/v4', gitea: '/api/v1' };

export interface HookTarget {
  /** The REST API's root, without a trailing slash. */
  apiBase: string;
  /** GitLab: the project's full path (`group/sub/app`); Gitea: `owner/name`. */
  repository: string;
}

/** `host` and `path` of a repository URL in any form git takes (https, ssh, scp-style). */
function hostAndPath(repoUrl: string): { origin: string; path: string } | undefined {
  const text = repoUrl.trim();
  const scp = /^(?:[\w.-]+@)?([\w.-]+):(?!\/\/)(.+)$/.exec(text);
  if (scp?.[1] && scp[2] && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return { origin: `https://${scp[1].toLowerCase()}`, path: scp[2] };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    return { origin: url.origin, path: url.pathname };
  }
  // ssh:// and git:// name the web server's host; their port is not the web server's.
  if (url.protocol === 'ssh:' || url.protocol === 'git:') {
    return { origin: `https://${url.hostname}`, path: url.pathname };
  }
  return undefined;
}

function trimPath(path: string): string {
  return path
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
}

/**
 * The API and repository a project's hook is created at. The API defaults to the repository's
 * host (`/api/v4` for GitLab, `/api/v1` for Gitea); an `apiUrl` whose path has a prefix before
 * that (a server under a relative URL root, `https://example.com/gitlab/api/v4`) also takes the
 * prefix off the repository path. Throws an Error whose message says what is wrong.
 */
export function hookTarget(provider: HookProvider, repoUrl: string, apiUrl?: string): HookTarget {
  const located = hostAndPath(repoUrl);
  if (!located) {
    throw new Error(
      `the repository URL is not on a ${PROVIDER_NAME[provider]} server (https or ssh); a local path has no webhooks`,
    );
  }
  let apiBase = `${located.origin}${API_PATH[provider]}`;
  let path = trimPath(located.path);
  if (apiUrl) {
    apiBase = apiUrl.replace(/\/+$/, '');
    const root = new URL(apiBase).pathname.replace(/\/api\/v\d+$/, '').replace(/^\/+/, '');
    if (root && path.startsWith(`${root}/`)) path = path.slice(root.length + 1);
  }
  const segments = path.split('/');
  const wellFormed = segments.every((segment) => /^[\w.-]+$/.test(segment));
  const enough = provider === 'gitea' ? segments.length === 2 : segments.length >= 2;
  if (!wellFormed || !enough) {
    throw new Error(
      provider === 'gitea'
        ? `"${path}" is not an owner/name repository path`
        : `"${path}" is not a group/project path`,
    );
  }
  return { apiBase, repository: path };
}

/** The events Sparki builds from (docs/webhooks.md, "What each delivery does"). */
export const GITEA_HOOK_EVENTS = ['push', 'pull_request', 'delete'];

/** GitLab's project hook settings (`POST`/`PUT /projects/:id/hooks`). */
export function gitlabHookSettings(url: string, secret: string) {
  return {
    url,
    token: secret,
    push_events: true,
    tag_push_events: true,
    merge_request_events: true,
    enable_ssl_verification: true,
  };
}

/** Gitea's hook settings; `type` only on creation (`CreateHookOption` vs `EditHookOption`). */
export function giteaHookSettings(url: string, secret: string, creating: boolean) {
  return {
    ...(creating ? { type: 'gitea' } : {}),
    config: { url, content_type: 'json', secret },
    events: GITEA_HOOK_EVENTS,
    branch_filter: '*',
    active: true,
  };
}

const GitLabHook = z.looseObject({ id: z.number().int(), url: z.string() });
const GiteaHook = z.looseObject({
  id: z.number().int(),
  config: z.looseObject({ url: z.string().optional() }).nullish(),
});

/** A hook's id and target URL as the provider lists it; undefined for an unexpected shape. */
export function parseHook(
  provider: HookProvider,
  value: unknown,
): { id: number; url: string | undefined } | undefined {
  if (provider === 'gitlab') {
    const hook = GitLabHook.safeParse(value);
    return hook.success ? { id: hook.data.id, url: hook.data.url } : undefined;
  }
  const hook = GiteaHook.safeParse(value);
  return hook.success ? { id: hook.data.id, url: hook.data.config?.url } : undefined;
}

/** The id of Sparki's hook (the one sending to `url`) among a page of listed hooks. */
export function findHookId(provider: HookProvider, listed: unknown, url: string) {
  if (!Array.isArray(listed)) return undefined;
  const wanted = url.replace(/\/+$/, '');
  for (const value of listed) {
    const hook = parseHook(provider, value);
    if (hook?.url?.replace(/\/+$/, '') === wanted) return hook.id;
  }
  return undefined;
}

/** How Sparki reads a provider's refusal: what the user has to do about it. */
export type HookRefusal = 'token_rejected' | 'insufficient_scope' | 'not_found' | 'upstream';

export function hookRefusal(status: number): HookRefusal {
  if (status === 401) return 'token_rejected';
  if (status === 403) return 'insufficient_scope';
  if (status === 404) return 'not_found';
  return 'upstream';
}
