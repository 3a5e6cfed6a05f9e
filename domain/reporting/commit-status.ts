import { importPKCS8, SignJWT } from 'jose';

/** Sparki's view of a build or deployment, mapped onto each provider's own states. */
export type CommitState = 'pending' | 'running' | 'success' | 'failure' | 'error' | 'canceled';

export interface CommitStatus {
  sha: string;
  state: CommitState;
  /** One line per check, e.g. `sparki/build` or `sparki/deploy (preview)`. */
  context: string;
  description: string;
  targetUrl?: string;
}

export class ReportingError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export type Fetch = (request: Request) => Promise<Response>;

/** A provider that does not answer in this time is given up on: reporting never holds work up. */
export const PROVIDER_TIMEOUT_MS = 10_000;

async function send(fetcher: Fetch, request: Request, what: string): Promise<Response> {
  const response = await fetcher(
    new Request(request, { signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) }),
  );
  if (!response.ok) {
    const detail = (await response.text()).slice(0, 300);
    throw new ReportingError(`${what} failed: ${response.status} ${detail}`, response.status);
  }
  return response;
}

// ---- GitHub (through a GitHub App) ----

export interface GitHubAppConfig {
  appId: string;
  /** PKCS#8 PEM; GitHub hands out PKCS#1, converted once with `openssl pkcs8 -topk8 -nocrypt`. */
  privateKeyPem: string;
  apiBase?: string;
}

/** The app's own JWT: RS256, issued a minute in the past for clock drift, valid ten minutes. */
export async function githubAppJwt(config: GitHubAppConfig, now = Date.now()): Promise<string> {
  const key = await importPKCS8(config.privateKeyPem, 'RS256');
  const issuedAt = Math.floor(now / 1000) - 60;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(config.appId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + 600)
    .sign(key);
}

/**
 * What an installation token may do, narrower than the installation: repository names (without
 * the owner) and permissions, as `POST /app/installations/{id}/access_tokens` takes them.
 */
export interface InstallationTokenScope {
  repositories?: string[];
  permissions?: Record<string, 'read' | 'write'>;
}

export async function githubInstallationToken(
  config: GitHubAppConfig,
  installationId: number,
  fetcher: Fetch = fetch,
  scope?: InstallationTokenScope,
): Promise<string> {
  const base = config.apiBase ?? 'https://api.github.com';
  const response = await send(
    fetcher,
    new Request(`${base}/app/installations/${installationId}/access_tokens`, {
      method: 'POST',
      headers: githubHeaders(`Bearer ${await githubAppJwt(config)}`),
      ...(scope ? { body: JSON.stringify(scope) } : {}),
    }),
    'GitHub installation token',
  );
  const { token } = (await response.json()) as { token: string };
  return token;
}

function githubHeaders(authorization: string) {
  return {
    authorization,
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
    'user-agent': 'sparki',
    'content-type': 'application/json',
  };
}

const GITHUB_STATE: Record<CommitState, string> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  error: 'error',
  canceled: 'error',
};

export interface RepoCoordinates {
  apiBase: string;
  /** `owner/name` for GitHub and Gitea; the numeric id or URL-encoded path for GitLab. */
  repo: string;
  token: string;
}

export async function githubCommitStatus(
  target: RepoCoordinates,
  status: CommitStatus,
  fetcher: Fetch = fetch,
) {
  await send(
    fetcher,
    new Request(`${target.apiBase}/repos/${target.repo}/statuses/${status.sha}`, {
      method: 'POST',
      headers: githubHeaders(`Bearer ${target.token}`),
      body: JSON.stringify({
        state: GITHUB_STATE[status.state],
        context: status.context,
        description: status.description.slice(0, 140),
        ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
      }),
    }),
    'GitHub commit status',
  );
}

// ---- GitLab ----

const GITLAB_STATE: Record<CommitState, string> = {
  pending: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  error: 'failed',
  canceled: 'canceled',
};

export async function gitlabCommitStatus(
  target: RepoCoordinates,
  status: CommitStatus,
  fetcher: Fetch = fetch,
) {
  const url = new URL(
    `${target.apiBase}/projects/${encodeURIComponent(target.repo)}/statuses/${status.sha}`,
  );
  url.searchParams.set('state', GITLAB_STATE[status.state]);
  url.searchParams.set('name', status.context);
  url.searchParams.set('description', status.description.slice(0, 255));
  if (status.targetUrl) url.searchParams.set('target_url', status.targetUrl);
  await send(
    fetcher,
    new Request(url, {
      method: 'POST',
      headers: { 'private-token': target.token, 'user-agent': 'sparki' },
    }),
    'GitLab commit status',
  );
}

// ---- Gitea / Forgejo ----

const GITEA_STATE: Record<CommitState, string> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  error: 'error',
  canceled: 'warning',
};

export async function giteaCommitStatus(
  target: RepoCoordinates,
  status: CommitStatus,
  fetcher: Fetch = fetch,
) {
  await send(
    fetcher,
    new Request(`${target.apiBase}/repos/${target.repo}/statuses/${status.sha}`, {
      method: 'POST',
      headers: {
        authorization: `token ${target.token}`,
        'content-type': 'application/json',
        'user-agent': 'sparki',
      },
      body: JSON.stringify({
        state: GITEA_STATE[status.state],
        context: status.context,
        description: status.description,
        ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
      }),
    }),
    'Gitea commit status',
  );
}

// ---- Pull request comments (GitHub issue comments, GitLab merge request notes, Gitea comments) ----

/**
 * Sparki's one comment on a pull or merge request: `marker` (a hidden HTML comment) is its first
 * line, so the next report finds and edits it instead of adding another.
 */
export interface PullRequestComment {
  number: number;
  marker: string;
  body: string;
}

/** Listing stops here (100 a page: 2,000 comments); a marker not found by then gets a new comment. */
export const COMMENT_PAGE_LIMIT = 20;

/** The `rel="next"` target of a Link header (RFC 8288), only on the API's own origin. */
export function nextPageUrl(response: Response, apiBase: string): string | undefined {
  const link = response.headers.get('link');
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match?.[1]) continue;
    const rels = (match[2] ?? '')
      .split(';')
      .map((param) => param.trim())
      .filter((param) => param.toLowerCase().startsWith('rel='))
      .flatMap((param) => param.slice(4).replace(/^"|"$/g, '').split(/\s+/));
    if (!rels.includes('next')) continue;
    const next = new URL(match[1], apiBase);
    return next.origin === new URL(apiBase).origin ? next.toString() : undefined;
  }
  return undefined;
}

interface CommentApi {
  what: string;
  headers: Record<string, string>;
  list: string;
  create: string;
  update: (id: number) => string;
  updateMethod: 'PATCH' | 'PUT';
}

interface ListedComment {
  id: number;
  body?: string | null;
  /** GitLab: notes the system wrote (label changes, pushes). */
  system?: boolean;
}

async function findMarked(api: CommentApi, apiBase: string, marker: string, fetcher: Fetch) {
  let url: string | undefined = api.list;
  for (let page = 0; url && page < COMMENT_PAGE_LIMIT; page++) {
    const response = await send(
      fetcher,
      new Request(url, { headers: api.headers }),
      `${api.what} listing`,
    );
    const comments = (await response.json()) as ListedComment[];
    if (!Array.isArray(comments)) {
      throw new ReportingError(`${api.what} listing is not a list`, response.status);
    }
    const found = comments.find((comment) => !comment.system && comment.body?.startsWith(marker));
    if (found) return found.id;
    url = nextPageUrl(response, apiBase);
  }
  return undefined;
}

/** Edits the marked comment, or posts it when there is none (or it was deleted meanwhile). */
async function upsertComment(
  api: CommentApi,
  apiBase: string,
  comment: PullRequestComment,
  fetcher: Fetch,
): Promise<'created' | 'updated'> {
  const body = JSON.stringify({ body: `${comment.marker}\n${comment.body}` });
  const existing = await findMarked(api, apiBase, comment.marker, fetcher);
  if (existing !== undefined) {
    try {
      await send(
        fetcher,
        new Request(api.update(existing), {
          method: api.updateMethod,
          headers: api.headers,
          body,
        }),
        `${api.what} update`,
      );
      return 'updated';
    } catch (err) {
      if (!(err instanceof ReportingError && err.status === 404)) throw err;
    }
  }
  await send(
    fetcher,
    new Request(api.create, { method: 'POST', headers: api.headers, body }),
    api.what,
  );
  return 'created';
}

/** GitHub: `GET/POST /repos/{o}/{r}/issues/{n}/comments`, `PATCH /repos/{o}/{r}/issues/comments/{id}`. */
export function githubPullRequestComment(
  target: RepoCoordinates,
  comment: PullRequestComment,
  fetcher: Fetch = fetch,
) {
  const repo = `${target.apiBase}/repos/${target.repo}`;
  return upsertComment(
    {
      what: 'GitHub pull request comment',
      headers: githubHeaders(`Bearer ${target.token}`),
      list: `${repo}/issues/${comment.number}/comments?per_page=100`,
      create: `${repo}/issues/${comment.number}/comments`,
      update: (id) => `${repo}/issues/comments/${id}`,
      updateMethod: 'PATCH',
    },
    target.apiBase,
    comment,
    fetcher,
  );
}

/** GitLab: `GET/POST /projects/:id/merge_requests/:iid/notes`, `PUT .../notes/:note_id`. */
export function gitlabMergeRequestNote(
  target: RepoCoordinates,
  comment: PullRequestComment,
  fetcher: Fetch = fetch,
) {
  const notes = `${target.apiBase}/projects/${encodeURIComponent(target.repo)}/merge_requests/${comment.number}/notes`;
  return upsertComment(
    {
      what: 'GitLab merge request note',
      headers: {
        'private-token': target.token,
        'content-type': 'application/json',
        'user-agent': 'sparki',
      },
      list: `${notes}?per_page=100&sort=asc&order_by=created_at`,
      create: notes,
      update: (id) => `${notes}/${id}`,
      updateMethod: 'PUT',
    },
    target.apiBase,
    comment,
    fetcher,
  );
}

/** Gitea: `GET/POST /repos/{o}/{r}/issues/{index}/comments`, `PATCH /repos/{o}/{r}/issues/comments/{id}`. */
export function giteaPullRequestComment(
  target: RepoCoordinates,
  comment: PullRequestComment,
  fetcher: Fetch = fetch,
) {
  const repo = `${target.apiBase}/repos/${target.repo}`;
  return upsertComment(
    {
      what: 'Gitea pull request comment',
      headers: {
        authorization: `token ${target.token}`,
        'content-type': 'application/json',
        'user-agent': 'sparki',
      },
      // Gitea answers this listing whole: it takes no page parameters.
      list: `${repo}/issues/${comment.number}/comments`,
      create: `${repo}/issues/${comment.number}/comments`,
      update: (id) => `${repo}/issues/comments/${id}`,
      updateMethod: 'PATCH',
    },
    target.apiBase,
    comment,
    fetcher,
  );
}
