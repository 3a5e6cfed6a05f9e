import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import type { CheckoutAuth } from '../../core/runner-protocol';
import { asProcessEnv } from './environment';

export interface CheckoutOptions {
  repoUrl: string;
  /** Null (or empty, from older platforms) when the job names only a branch. */
  commitSha: string | null;
  branch: string | null;
  dir: string;
  env: Record<string, string>;
  /** HTTP Basic credentials for the fetch (the job spec's `checkout_auth`), or none. */
  auth?: CheckoutAuth | null;
  signal: AbortSignal;
  log(text: string): void;
}

/** The `Authorization` header value git sends with the credentials: mask it like the password. */
export function basicAuthorization(auth: CheckoutAuth): string {
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

/** What of the checkout credentials the masker hides in every line: the password and the header. */
export function checkoutSecrets(auth: CheckoutAuth | null | undefined): string[] {
  if (!auth) return [];
  return [auth.password, basicAuthorization(auth).slice('Basic '.length)];
}

/**
 * The credentials as git configuration in the environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n):
 * never on the command line (visible in `ps`), never in a URL git could write to .git/config or
 * quote in a message. Scoped to the repository's origin, so a redirect elsewhere does not get it.
 */
function authEnvironment(options: CheckoutOptions): Record<string, string> {
  if (!options.auth) return {};
  let origin: string;
  try {
    origin = new URL(options.repoUrl).origin;
  } catch {
    return {};
  }
  const count = Number.parseInt(options.env.GIT_CONFIG_COUNT ?? '0', 10) || 0;
  return {
    GIT_CONFIG_COUNT: String(count + 1),
    [`GIT_CONFIG_KEY_${count}`]: `http.${origin}/.extraHeader`,
    [`GIT_CONFIG_VALUE_${count}`]: `Authorization: ${basicAuthorization(options.auth)}`,
  };
}

export class CheckoutError extends Error {
  override name = 'CheckoutError';
}

function git(args: string[], options: CheckoutOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: options.dir,
        env: asProcessEnv({
          ...options.env,
          ...authEnvironment(options),
          GIT_TERMINAL_PROMPT: '0',
        }),
        signal: options.signal,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          const detail = redact(stderr.trim() || error.message, options);
          reject(new CheckoutError(`git ${args[0]}: ${detail}`));
        } else resolve(stdout.trim());
      },
    );
  });
}

/** Git's own messages may quote the URL, token included. */
function redact(text: string, options: CheckoutOptions): string {
  let fromUrl: string[] = [];
  try {
    const url = new URL(options.repoUrl);
    fromUrl = [url.password, url.username].flatMap((part) => [part, decodeURIComponent(part)]);
  } catch {}
  return [...fromUrl, ...checkoutSecrets(options.auth)]
    .filter((part) => part.length > 0)
    .reduce((masked, part) => masked.replaceAll(part, '***'), text);
}

/** The repository URL as it may appear in the log: without credentials. */
export function displayUrl(repoUrl: string): string {
  try {
    const url = new URL(repoUrl);
    if (!url.username && !url.password) return repoUrl;
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return repoUrl;
  }
}

/**
 * Puts exactly the job's commit in `dir` with real git, so any URL git accepts works (https,
 * ssh, local paths). The shallow fetch of one commit is the fast path; servers that refuse to
 * hand out a commit by id (and short ids) get a full fetch. Returns the commit checked out.
 */
export async function checkoutCommit(options: CheckoutOptions): Promise<string> {
  const { repoUrl, commitSha, branch } = options;
  if (!commitSha && !branch) throw new CheckoutError('the job names neither a commit nor a branch');
  if (commitSha && !/^[0-9a-f]{4,64}$/i.test(commitSha)) {
    throw new CheckoutError(`"${commitSha}" is not a commit id`);
  }
  await mkdir(options.dir, { recursive: true });
  await git(['init', '--quiet'], options);
  const wanted = commitSha || `refs/heads/${branch}`;
  options.log(`Fetching ${wanted} from ${displayUrl(repoUrl)}`);
  let target = 'FETCH_HEAD';
  try {
    await git(
      ['fetch', '--quiet', '--no-tags', '--depth', '1', '--end-of-options', repoUrl, wanted],
      options,
    );
  } catch (error) {
    if (options.signal.aborted) throw error;
    options.log('Shallow fetch refused, fetching the whole repository');
    await git(
      [
        'fetch',
        '--quiet',
        '--end-of-options',
        repoUrl,
        '+refs/heads/*:refs/remotes/origin/*',
        '+refs/tags/*:refs/tags/*',
      ],
      options,
    );
    target = commitSha || `refs/remotes/origin/${branch}`;
  }
  const sha = await git(['rev-parse', '--verify', `${target}^{commit}`], options).catch(() => {
    throw new CheckoutError(`commit ${wanted} is not in the repository`);
  });
  if (commitSha && !sha.startsWith(commitSha.toLowerCase())) {
    throw new CheckoutError(`fetched ${sha}, not the requested commit ${commitSha}`);
  }
  await git(['checkout', '--quiet', '--detach', sha], options);
  options.log(`Checked out ${sha}`);
  return sha;
}

/** The committer date of the commit checked out in `options.dir`, as strict ISO 8601. */
export function commitTimestamp(options: CheckoutOptions): Promise<string> {
  return git(['show', '-s', '--format=%cI', 'HEAD'], options);
}
