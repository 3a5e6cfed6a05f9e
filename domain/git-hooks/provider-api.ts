import {
  findHookId,
  giteaHookSettings,
  gitlabHookSettings,
  HOOK_ROLE,
  HOOK_TOKEN_SCOPE,
  type HookProvider,
  type HookTarget,
  hookRefusal,
  PROVIDER_NAME,
  parseHook,
} from '../../core/git-hooks';
import { ApiError } from '../../platform/errors';
import { type Fetch, nextPageUrl, PROVIDER_TIMEOUT_MS } from '../reporting/commit-status';

/**
 * A repository's hooks through the provider's REST API, as GitLab (`/projects/:id/hooks`) and
 * Gitea (`/repos/{owner}/{repo}/hooks`) document them, called with the user's token. Every
 * refusal becomes an ApiError that tells the user what to change.
 */
export interface HookApi extends HookTarget {
  provider: HookProvider;
  token: string;
  fetch: Fetch;
}

/** Listing stops after this many pages of 50 hooks. */
const MAX_PAGES = 20;

function hooksUrl(api: HookApi, hookId?: number): string {
  const repo =
    api.provider === 'gitlab'
      ? `projects/${encodeURIComponent(api.repository)}`
      : `repos/${api.repository.split('/').map(encodeURIComponent).join('/')}`;
  return `${api.apiBase}/${repo}/hooks${hookId === undefined ? '' : `/${hookId}`}`;
}

function authorization(api: HookApi): Record<string, string> {
  return api.provider === 'gitlab'
    ? { 'private-token': api.token }
    : { authorization: `token ${api.token}` };
}

/** The provider's own words for a refusal (`message` or `error`), short, for the user to read. */
async function providerMessage(response: Response): Promise<string> {
  const text = (await response.text().catch(() => '')).slice(0, 2000);
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    const said = body.message ?? body.error;
    return (typeof said === 'string' ? said : JSON.stringify(said ?? body)).slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}

async function refused(api: HookApi, response: Response): Promise<ApiError> {
  const name = PROVIDER_NAME[api.provider];
  const scope = HOOK_TOKEN_SCOPE[api.provider];
  const status = response.status;
  const said = await providerMessage(response);
  const details = { provider: api.provider, provider_status: status, provider_message: said };
  switch (hookRefusal(status)) {
    case 'token_rejected':
      return new ApiError(
        'bad_request',
        `${name} did not accept the token (401): it is unknown, expired or revoked. Create a token with the ${scope} scope.`,
        { ...details, reason: 'token_rejected', required_scope: scope },
      );
    case 'insufficient_scope':
      return new ApiError(
        'forbidden',
        `${name} refused the token (403): it needs the ${scope} scope and the ${HOOK_ROLE[api.provider]} role on ${api.repository} to manage its webhooks.`,
        { ...details, reason: 'insufficient_scope', required_scope: scope },
      );
    case 'not_found':
      return new ApiError(
        'not_found',
        `Repository ${api.repository} not found on ${name} at ${api.apiBase} (or the token cannot see it).`,
        { ...details, reason: 'repository_not_found' },
      );
    default:
      return new ApiError('bad_gateway', `${name} answered ${status}: ${said}`, {
        ...details,
        reason: 'provider_error',
      });
  }
}

async function call(api: HookApi, method: string, url: string, body?: unknown): Promise<Response> {
  const name = PROVIDER_NAME[api.provider];
  let response: Response;
  try {
    response = await api.fetch(
      new Request(url, {
        method,
        headers: {
          ...authorization(api),
          accept: 'application/json',
          'user-agent': 'sparki',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // A redirect could lead the token anywhere: the API must answer at the URL itself.
        redirect: 'manual',
        signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
      }),
    );
  } catch (error) {
    const why = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'failed';
    throw new ApiError('bad_gateway', `${name} at ${api.apiBase} could not be reached (${why})`, {
      provider: api.provider,
      reason: 'unreachable',
    });
  }
  if (response.status >= 300 && response.status < 400) {
    throw new ApiError(
      'bad_gateway',
      `${name} answered ${response.status} (a redirect) at ${api.apiBase}: give the API's own address as api_url`,
      { provider: api.provider, provider_status: response.status, reason: 'redirect' },
    );
  }
  if (!response.ok) throw await refused(api, response);
  return response;
}

async function json(api: HookApi, response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    throw new ApiError('bad_gateway', `${PROVIDER_NAME[api.provider]} answered with no JSON`, {
      provider: api.provider,
      reason: 'provider_error',
    });
  }
}

/** The id of the repository's hook that sends to `url`, if there is one. */
export async function findHook(api: HookApi, url: string): Promise<number | undefined> {
  const first = new URL(hooksUrl(api));
  first.searchParams.set(api.provider === 'gitlab' ? 'per_page' : 'limit', '50');
  let next: string | undefined = first.toString();
  for (let page = 0; next && page < MAX_PAGES; page++) {
    const response = await call(api, 'GET', next);
    const found = findHookId(api.provider, await json(api, response), url);
    if (found !== undefined) return found;
    next = nextPageUrl(response, api.apiBase);
  }
  return undefined;
}

function settings(api: HookApi, url: string, secret: string, creating: boolean) {
  return api.provider === 'gitlab'
    ? gitlabHookSettings(url, secret)
    : giteaHookSettings(url, secret, creating);
}

export async function createHook(api: HookApi, url: string, secret: string): Promise<number> {
  const response = await call(api, 'POST', hooksUrl(api), settings(api, url, secret, true));
  const hook = parseHook(api.provider, await json(api, response));
  if (!hook) {
    throw new ApiError(
      'bad_gateway',
      `${PROVIDER_NAME[api.provider]} created the webhook but answered without its id`,
      { provider: api.provider, reason: 'provider_error' },
    );
  }
  return hook.id;
}

/** Points the hook at `url` with `secret` again and re-enables it (GitLab PUT, Gitea PATCH). */
export async function updateHook(api: HookApi, hookId: number, url: string, secret: string) {
  const method = api.provider === 'gitlab' ? 'PUT' : 'PATCH';
  await call(api, method, hooksUrl(api, hookId), settings(api, url, secret, false));
}

/**
 * Deletes the hook; 'already_gone' when the provider no longer has it. Both providers answer a
 * missing hook and a missing repository with 404, so a 404 is told apart by listing the
 * repository's hooks: a listing that works means only the hook is gone.
 */
export async function deleteHook(
  api: HookApi,
  hookId: number,
): Promise<'deleted' | 'already_gone'> {
  try {
    await call(api, 'DELETE', hooksUrl(api, hookId));
    return 'deleted';
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'not_found') throw error;
    await call(api, 'GET', hooksUrl(api));
    return 'already_gone';
  }
}
