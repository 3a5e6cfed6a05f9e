import type { ServerResponse } from 'node:http';

/**
 * What the GitLab/Gitea stand-in (test/git-host-double.ts) holds: repositories, access tokens and
 * the hooks created through its API, with the secrets it was given (which the real servers never
 * show again, and this one shows only to tests, under `/_test/`).
 */
export type HostProvider = 'gitlab' | 'gitea';

/** GitLab: `maintainer` manages hooks, `developer` may not. Gitea: `admin` may, `write` not. */
export type HostRole = 'maintainer' | 'developer' | 'admin' | 'write';

export interface HostHook {
  id: number;
  url: string;
  /** GitLab's `token`, Gitea's `config.secret`. */
  secret: string;
  /** GitLab: `push`, `tag_push`, `merge_request`; Gitea: its event names. */
  events: string[];
  active: boolean;
  contentType: string;
  enableSslVerification: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface HostRepo {
  provider: HostProvider;
  /** `group/sub/app` (GitLab) or `owner/name` (Gitea). */
  path: string;
  id: number;
  /** A git directory served over smart HTTP at `/{path}.git`, when the test gave one. */
  gitDir?: string;
  hooks: HostHook[];
  /** Every API call on this repository answers this status (an outage). */
  failWith?: number;
}

export interface HostToken {
  provider: HostProvider;
  token: string;
  /** GitLab: `api`, `read_api`…; Gitea: `write:repository`, `read:repository`… */
  scopes: string[];
  access: Record<string, HostRole>;
}

export interface HostState {
  baseUrl: string;
  repos: HostRepo[];
  tokens: Map<string, HostToken>;
  nextId: () => number;
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): true {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
  return true;
}

/** The `Link` and total headers both providers page lists with. */
export function paged<T>(
  items: T[],
  url: URL,
  sizeParam: 'per_page' | 'limit',
  defaultSize: number,
  maxSize: number,
) {
  const size = Math.min(
    Number(url.searchParams.get(sizeParam) ?? defaultSize) || defaultSize,
    maxSize,
  );
  const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
  const slice = items.slice((page - 1) * size, page * size);
  const headers: Record<string, string> = {
    'x-total': String(items.length),
    'x-total-count': String(items.length),
  };
  if (page * size < items.length) {
    const next = new URL(url);
    next.searchParams.set('page', String(page + 1));
    headers.link = `<${next}>; rel="next"`;
  }
  return { slice, headers };
}
