import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  apiCaller,
  type Db,
  deliverPush,
  logIn,
  newRepoProject,
  registerRunnerProcess,
  signUpAndLogIn,
  spawnRunner,
  withDb,
} from '../../test/node/e2e-helpers';
import { type ChildEnv, startStackOnFreePort, stopStack } from '../../test/node/stack';
import { startCountingProxy } from './counting-proxy';

/** Re-signs in this often: access tokens live 10 minutes, a full bench run longer. */
const TOKEN_REFRESH_MS = 5 * 60_000;

export interface BenchProject {
  id: string;
  repo: string;
  /** Commits `files` on main: the new sha. */
  commit(files: Record<string, string>, message: string): Promise<string>;
  /** A signed push of `sha` to main, and when it was sent and answered (performance.now()). */
  push(sha: string): Promise<{ buildId: string; sentAt: number; answeredAt: number }>;
}

/**
 * The real local stack as `npm run dev` starts it, a signed-up owner with a workspace, and one
 * real `sparki runner` process that reaches the stack through a counting proxy. Each line the
 * runner prints reaches `onRunnerLine` with the moment it arrived.
 */
export async function startBenchStack() {
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...env }: ChildEnv = process.env;
  const stateDir = await mkdtemp(join(tmpdir(), 'sparki-bench-'));
  // The built dashboard when there is one: no Vite dev server taking CPU from the figures.
  const built = existsSync(join(import.meta.dirname, '../../web/dist/index.html'));
  const stack = await startStackOnFreePort(stateDir, {
    ...env,
    ...(built ? { SPARKI_DASHBOARD: 'built' } : {}),
  });
  const base = `http://127.0.0.1:${stack.port}`;
  const email = `bench-${randomUUID().slice(0, 8)}@example.com`;
  let token = await signUpAndLogIn(base, email);
  let tokenAt = Date.now();
  const freshToken = async () => {
    if (Date.now() - tokenAt > TOKEN_REFRESH_MS) {
      token = await logIn(base, email);
      tokenAt = Date.now();
    }
    return token;
  };
  const callApi = apiCaller(base, () => token);
  const api: typeof callApi = async (method, path, body) => {
    await freshToken();
    return callApi(method, path, body);
  };
  const { id: workspaceId } = await api<{ id: string }>('POST', '/api/workspaces', {
    name: 'Bench',
    slug: `bench-${randomUUID().slice(0, 8)}`,
  });

  const proxy = await startCountingProxy(stack.port);
  const runner = await registerRunnerProcess(api, {
    workspaceId,
    stateDir,
    name: 'bench-runner',
    url: proxy.url,
  });
  const lineListeners = new Set<(line: string, at: number) => void>();
  /** When the runner said it started each build (`build <id>: attempt <n> started`). */
  const jobStarts = new Map<string, number>();
  lineListeners.add((line, at) => {
    const started = /build (\S+): attempt \d+ started/.exec(line);
    if (started && !jobStarts.has(started[1]!)) jobStarts.set(started[1]!, at);
  });
  let pending = '';
  let runnerOutput = '';
  const child: ChildProcess = spawnRunner(runner.config, stateDir, (chunk) => {
    const at = performance.now();
    runnerOutput = (runnerOutput + chunk).slice(-20_000);
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) for (const listener of lineListeners) listener(line, at);
  });

  /** Resolves with the moment the runner printed a line `matches` accepts. */
  function runnerPrints(matches: (line: string) => boolean, timeoutMs = 120_000) {
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        lineListeners.delete(listener);
        reject(
          new Error(`the runner did not print the line in time; it printed:\n${runnerOutput}`),
        );
      }, timeoutMs);
      const listener = (line: string, at: number) => {
        if (!matches(line)) return;
        clearTimeout(timer);
        lineListeners.delete(listener);
        resolve(at);
      };
      lineListeners.add(listener);
    });
  }

  async function newProject(slug: string, files: Record<string, string>): Promise<BenchProject> {
    const created = await newRepoProject(api, { workspaceId, stateDir, slug, files });
    return {
      id: created.project.id,
      repo: created.repo,
      commit: created.commit,
      async push(sha) {
        const sentAt = performance.now();
        const delivered = await deliverPush(base, {
          project: created.project,
          repo: created.repo,
          deliveryId: randomUUID(),
          sha,
          branch: 'main',
        });
        const answeredAt = performance.now();
        if (!delivered.body.build_id) {
          throw new Error(`push not queued: ${delivered.status} ${JSON.stringify(delivered.body)}`);
        }
        return { buildId: delivered.body.build_id, sentAt, answeredAt };
      },
    };
  }

  async function waitFor<T>(
    what: string,
    check: () => Promise<T | undefined | false>,
    ms = 900_000,
  ) {
    const started = Date.now();
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() - started > ms) {
        throw new Error(`timed out waiting for ${what}; the runner printed:\n${runnerOutput}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    base,
    stateDir,
    postgresUrl: stack.postgresUrl,
    api,
    token: freshToken,
    workspaceId,
    proxy,
    runnerPrints,
    /** When the runner had the build's job (performance.now()), once it has. */
    jobStart: (buildId: string) =>
      waitFor(`the runner to take build ${buildId}`, async () => jobStarts.get(buildId)),
    newProject,
    waitFor,
    db: <T>(run: (db: Db) => Promise<T>) => withDb(stack.postgresUrl, run),
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await proxy.close();
      await stopStack(stack);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export type BenchStack = Awaited<ReturnType<typeof startBenchStack>>;
