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

type Fetch = (request: Request) => Promise<Response>;

async function send(fetcher: Fetch, request: Request, what: string): Promise<Response> {
  const response = await fetcher(request);
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

export async function githubInstallationToken(
  config: GitHubAppConfig,
  installationId: number,
  fetcher: Fetch = fetch,
): Promise<string> {
  const base = config.apiBase ?? 'https://api.github.com';
  const response = await send(
    fetcher,
    new Request(`${base}/app/installations/${installationId}/access_tokens`, {
      method: 'POST',
      headers: githubHeaders(`Bearer ${await githubAppJwt(config)}`),
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

/** The preview URL on the pull request, as a comment. */
export async function githubPullRequestComment(
  target: RepoCoordinates,
  pullRequest: number,
  body: string,
  fetcher: Fetch = fetch,
) {
  await send(
    fetcher,
    new Request(`${target.apiBase}/repos/${target.repo}/issues/${pullRequest}/comments`, {
      method: 'POST',
      headers: githubHeaders(`Bearer ${target.token}`),
      body: JSON.stringify({ body }),
    }),
    'GitHub pull request comment',
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
