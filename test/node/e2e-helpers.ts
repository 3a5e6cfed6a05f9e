import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import examples from '@octokit/webhooks-examples';
import { expect } from 'vitest';
import { getPlatformProxy } from 'wrangler';
import { createDb } from '../../db/client';
import { postgresTarget, startNeonProxy } from '../../dev/neon-proxy';
import { type ChildEnv, type RunningStack, startStackOnFreePort, stopStack } from './stack';

/**
 * The setting of the end-to-end tests, with nothing faked: the dev stack (`npm run dev`: wrangler
 * dev with the real Worker, queues, Durable Objects and R2, embedded Postgres), a signed-up user
 * with a workspace, a project on a real git repository, signed GitHub deliveries and
 * `sparki runner` as real processes.
 */
const execFileAsync = promisify(execFile);
const BIN = join(import.meta.dirname, '../../cli/bin.mjs');
const PASSWORD = 'correct horse battery staple';

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

export interface Build {
  id: string;
  status: string;
  attempt: number;
  runner_id: string | null;
  error: string | null;
  commit_sha: string | null;
}

export type Db = ReturnType<typeof createDb>['db'];

/** A connection to the stack's own Postgres, for what no API shows. */
export async function withDb<T>(url: string, run: (db: Db) => Promise<T>): Promise<T> {
  const proxy = await startNeonProxy({ allowedTargets: [postgresTarget(url)] });
  const { db, pool } = createDb(url, { wsProxy: proxy.wsProxy });
  try {
    return await run(db);
  } finally {
    await pool.end();
    await proxy.close();
  }
}

/** The Worker's bindings over the state wrangler dev persists, as the Worker itself sees them. */
export async function withBindings<T>(stateDir: string, run: (env: Env) => Promise<T>) {
  // wrangler dev keeps its state under <persist-to>/v3; getPlatformProxy takes that directory.
  const proxy = await getPlatformProxy<Env>({
    persist: { path: join(stateDir, 'wrangler', 'v3') },
  });
  try {
    return await run(proxy.env);
  } finally {
    await proxy.dispose();
  }
}

function post(body: unknown): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

async function checkedJson<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  expect(response.ok, `${what}: ${response.status} ${text}`).toBe(true);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** An access token for `email`, signed up before (`signUpAndLogIn`). */
export async function logIn(base: string, email: string): Promise<string> {
  const response = await fetch(`${base}/api/auth/login`, post({ email, password: PASSWORD }));
  return (await checkedJson<{ access_token: string }>(response, 'login')).access_token;
}

/** Signs `email` up, verifies it through the stack's dev mailbox and signs in: an access token. */
export async function signUpAndLogIn(base: string, email: string): Promise<string> {
  expect((await fetch(`${base}/api/auth/signup`, post({ email, password: PASSWORD }))).status).toBe(
    202,
  );
  const mail = await checkedJson<{ messages: { subject: string; text: string }[] }>(
    await fetch(`${base}/dev/mailbox/${encodeURIComponent(email)}`),
    'mailbox',
  );
  const verify = /#token=([A-Za-z0-9_-]+)/.exec(mail.messages.at(-1)!.text)![1];
  await checkedJson(
    await fetch(`${base}/api/auth/verify-email`, post({ token: verify })),
    'verify',
  );
  return logIn(base, email);
}

/** A signed GitHub push of `sha` to `branch` of the project's repository, as GitHub delivers it. */
export async function deliverPush(
  base: string,
  options: {
    project: { id: string; webhook_secret: string };
    repo: string;
    deliveryId: string;
    sha: string;
    branch: string;
  },
) {
  const { project, repo, sha, branch } = options;
  const body = JSON.stringify(githubPush({ cloneUrl: `file://${repo}`, sha, branch }));
  const signature = createHmac('sha256', project.webhook_secret).update(body).digest('hex');
  const response = await fetch(`${base}/webhooks/github/${project.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': options.deliveryId,
      'x-hub-signature-256': `sha256=${signature}`,
    },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as { status: string; build_id?: string },
  };
}

export type ApiCall = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** The API at `base` as the holder of `token()` (none when empty); a non-2xx answer fails. */
export function apiCaller(base: string, token: () => string): ApiCall {
  return async <T>(method: string, path: string, body?: unknown) => {
    const bearer = token();
    const response = await fetch(base + path, {
      method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return checkedJson<T>(response, `${method} ${path}`);
  };
}

/** Registers a `sparki runner` in a workspace (as `api`'s caller): its config file and id. */
export async function registerRunnerProcess(
  api: ApiCall,
  options: { workspaceId: string; stateDir: string; name: string; url: string },
): Promise<{ config: string; id: string }> {
  const { token: registration } = await api<{ token: string }>(
    'POST',
    `/api/workspaces/${options.workspaceId}/runner-registration-tokens`,
    { expires_in_hours: 1 },
  );
  const config = join(options.stateDir, `${options.name}.json`);
  // Not execFileSync: a proxy in this process may have to answer meanwhile.
  await execFileAsync(
    process.execPath,
    [BIN, 'runner', 'register', '--url', options.url, '--name', options.name, '--config', config],
    { env: { ...process.env, SPARKI_REGISTRATION_TOKEN: registration } },
  );
  return { config, id: JSON.parse(await readFile(config, 'utf8')).runner_id };
}

/** `sparki runner start` as a child process; what it prints on stderr goes to `onOutput`. */
export function spawnRunner(
  config: string,
  stateDir: string,
  onOutput: (chunk: string) => void,
): ChildProcess {
  const child = spawn(
    process.execPath,
    [BIN, 'runner', 'start', '--config', config, '--work-dir', join(stateDir, 'work')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (chunk) => onOutput(String(chunk)));
  return child;
}

/** A site whose build serves `version.txt` as its page: which commit is live shows at once. */
export function versionedSite(name: string, version: string): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name, private: true, scripts: { build: 'node build.js' } }),
    'build.js': `require('node:fs').mkdirSync('dist', { recursive: true });
require('node:fs').writeFileSync('dist/index.html', require('node:fs').readFileSync('version.txt', 'utf8'));`,
    'version.txt': version,
  };
}

/**
 * The files of a site whose `npm run build` copies page.html to dist/index.html and prints
 * `message`, plus `extra` files.
 */
export function pageSiteFiles(
  name: string,
  page: string,
  message: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name, private: true, scripts: { build: 'node build.js' } }),
    'build.js': `
const fs = require('node:fs');
fs.mkdirSync('dist', { recursive: true });
fs.copyFileSync('page.html', 'dist/index.html');
console.log(${JSON.stringify(message)});
`,
    'page.html': page,
    ...extra,
  };
}

/**
 * A new git repository at `repo` with `files` committed on `main` as "v1", and how to commit more
 * to its current branch (the new sha).
 */
export async function newRepo(repo: string, files: Record<string, string>) {
  await mkdir(repo);
  git(repo, 'init', '--quiet', '--initial-branch=main');

  async function commit(changes: Record<string, string>, message: string) {
    for (const [name, content] of Object.entries(changes)) {
      await writeFile(join(repo, name), content);
    }
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', message);
    return git(repo, 'rev-parse', 'HEAD');
  }

  await commit(files, 'v1');
  return commit;
}

/**
 * A project of its own on a new git repository under `stateDir`, committed with `files` on
 * `main`, built from `dist` without an install step.
 */
export async function newRepoProject(
  api: ApiCall,
  options: { workspaceId: string; stateDir: string; slug: string; files: Record<string, string> },
) {
  const { slug } = options;
  const repo = join(options.stateDir, `repo-${slug}`);
  const commit = await newRepo(repo, options.files);
  const project = await api<{ id: string; webhook_secret: string }>(
    'POST',
    `/api/workspaces/${options.workspaceId}/projects`,
    {
      name: slug,
      slug,
      git_provider: 'github',
      repo_url: `file://${repo}`,
      production_branch: 'main',
    },
  );
  await api('PATCH', `/api/projects/${project.id}/settings`, {
    overrides: { installCommand: null, outputDirectory: 'dist' },
  });
  return { project, repo, commit };
}

/**
 * GitHub's push event (a real payload of @octokit/webhooks-examples) of `sha` to `branch` of the
 * repository cloned from `cloneUrl` (and browsed at `htmlUrl`, when given).
 */
export function githubPush(options: {
  cloneUrl: string;
  htmlUrl?: string;
  sha: string;
  branch?: string;
}): Record<string, unknown> {
  const payload = structuredClone(
    examples
      .find((entry) => entry.name === 'push')!
      .examples.find((example) => (example as { ref?: string }).ref === 'refs/heads/master'),
  ) as Record<string, unknown>;
  payload.ref = `refs/heads/${options.branch ?? 'main'}`;
  // GitHub stamps each push: the same commit pushed again is a new body, not a replay.
  payload.repository = {
    ...(payload.repository as object),
    clone_url: options.cloneUrl,
    ...(options.htmlUrl && { html_url: options.htmlUrl }),
    pushed_at: Math.floor(Date.now() / 1000),
  };
  payload.after = options.sha;
  payload.head_commit = { ...(payload.head_commit as object), id: options.sha, message: 'e2e' };
  return payload;
}

/**
 * Starts one stack with a verified user, a workspace and a project on a local repository;
 * `stackEnv` adds to the environment the stack (and so the Worker, with
 * CLOUDFLARE_INCLUDE_PROCESS_ENV) runs with.
 */
export async function startE2E(repoFiles: Record<string, string>, stackEnv: ChildEnv = {}) {
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...inherited }: ChildEnv = process.env;
  const env = { ...inherited, ...stackEnv };
  const runners: ChildProcess[] = [];
  /** What the runners printed, for the message of a test that fails. */
  let runnerOutput = '';
  const stateDir = await mkdtemp(join(tmpdir(), 'sparki-e2e-'));
  const stack: RunningStack = await startStackOnFreePort(stateDir, env);
  const port = stack.ports[0]!;
  const base = `http://127.0.0.1:${port}`;
  let token = '';
  try {
    return await prepare();
  } catch (err) {
    await stopStack(stack);
    await rm(stateDir, { recursive: true, force: true });
    throw err;
  }

  async function prepare() {
    const api = apiCaller(base, () => token);

    async function waitFor<T>(
      what: string,
      check: () => Promise<T | undefined | false>,
      ms: number,
    ) {
      const start = Date.now();
      for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() - start > ms) {
          throw new Error(
            `timed out after ${ms} ms waiting for ${what}; runners:\n${runnerOutput}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }

    const email = `e2e-${randomUUID().slice(0, 8)}@example.com`;
    token = await signUpAndLogIn(base, email);
    const workspaceId = (
      await api<{ id: string }>('POST', '/api/workspaces', {
        name: 'E2E',
        slug: `e2e-${randomUUID().slice(0, 8)}`,
      })
    ).id;

    /**
     * A project of its own on a repository of its own, committed with `repoFiles` on `main`, so
     * a test can act on it without counting what other tests did.
     */
    async function newProject(repoFiles: Record<string, string>, slug: string) {
      const { project, repo, commit } = await newRepoProject(api, {
        workspaceId,
        stateDir,
        slug,
        files: repoFiles,
      });

      /** A signed GitHub push of `sha` to `branch`, as GitHub delivers it. */
      const deliver = (deliveryId: string, sha: string, branch = 'main') =>
        deliverPush(base, { project, repo, deliveryId, sha, branch });

      const projectBuilds = async () =>
        (await api<{ builds: Build[] }>('GET', `/api/projects/${project.id}/builds`)).builds;

      return { project, repo, commit, deliver, projectBuilds };
    }

    const registerRunner = (name: string, url = base) =>
      registerRunnerProcess(api, { workspaceId, stateDir, name, url });

    function startRunner(config: string): ChildProcess {
      const child = spawnRunner(config, stateDir, (chunk) => {
        runnerOutput += chunk;
      });
      runners.push(child);
      return child;
    }

    /** Waits for the build to succeed; any other end fails the test with the build's error. */
    const buildSucceeded = (buildId: string, ms = 90_000) =>
      waitFor(
        `build ${buildId} to succeed`,
        async () => {
          const build = await api<Build>('GET', `/api/builds/${buildId}`);
          if (['failed', 'canceled', 'timed_out'].includes(build.status)) {
            throw new Error(`build ended ${build.status}: ${build.error}`);
          }
          return build.status === 'succeeded' && build;
        },
        ms,
      );

    async function stop() {
      for (const child of runners) if (child.exitCode === null) child.kill('SIGKILL');
      expect(await stopStack(stack)).toBe(0);
      await rm(stateDir, { recursive: true, force: true });
    }

    return {
      stack,
      stateDir,
      base,
      token: () => token,
      workspaceId,
      ...(await newProject(repoFiles, 'e2e')),
      newProject,
      runners,
      api,
      waitFor,
      registerRunner,
      startRunner,
      buildSucceeded,
      stop,
    };
  }
}

export type E2E = Awaited<ReturnType<typeof startE2E>>;

/** A GET as a browser at `url` makes it: `*.localhost` is the loopback, whatever DNS says. */
export function browse(url: string): Promise<{ status: number; body: string }> {
  const { host, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port: Number(port), path: pathname, headers: { host } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}
