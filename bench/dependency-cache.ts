import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CacheStore, lockfileKey } from '../cli/runner/cache';
import {
  asProcessEnv,
  DEFAULT_PASS_ENV,
  passedEnvironment,
  stepEnvironment,
} from '../cli/runner/environment';
import { planInstall } from '../cli/runner/installed-tree';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'vite-app');
const INSTALLING = {
  installCommand: { value: 'npm ci', evidence: 'package-lock.json' },
  packageManager: { value: { name: 'npm' as const, version: null }, evidence: 'package-lock.json' },
};

/**
 * The install step of a small Vite + React app the way a runner's build runs it: a fresh
 * checkout, HOME and TMPDIR each time, the environment a step gets, npm's cache and installed
 * tree from the runner's cache store. Cold: the project's first build (`npm ci` with an empty
 * cache, then its tree kept). Warm: every build after it (the tree restored, `npm install
 * --no-save` over it).
 */
export async function benchDependencyCache(runs = 5): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'sparki-bench-cache-'));
  const store = new CacheStore(join(root, 'cache'), Number.POSITIVE_INFINITY, () => undefined);
  const passed = passedEnvironment(process.env, DEFAULT_PASS_ENV);
  const warmProject = randomUUID();

  async function build(projectId: string): Promise<number> {
    const jobDir = join(root, randomUUID());
    const [app, home, tmp] = ['source', 'home', 'tmp'].map((name) => join(jobDir, name));
    await cp(FIXTURE, app!, { recursive: true });
    await Promise.all([mkdir(home!), mkdir(tmp!)]);
    const key = await lockfileKey(app!, '', 'npm');
    const use = { projectId, lease: 'bench', tool: 'npm' as const, jobDir, home: home!, ...key };
    const lease = await store.open(use);
    const spec = { build_id: randomUUID(), attempt: 1, commit_sha: null, branch: null, env: {} };
    const cache = lease.env;
    const env = {
      ...stepEnvironment({ spec, home: home!, tmp: tmp!, host: process.env, passed, cache }),
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
    };
    // Timed as the install step is: restoring a kept tree, the command, keeping the new tree.
    const started = performance.now();
    const install = await planInstall(lease, INSTALLING, app!, env);
    await promisify(execFile)('sh', ['-c', install!.command], { cwd: app, env: asProcessEnv(env) });
    await install!.afterInstall?.();
    const elapsed = performance.now() - started;
    await lease.release(true);
    await rm(jobDir, { recursive: true, force: true });
    return elapsed;
  }

  const median = (samples: number[]) => samples.sort((a, b) => a - b)[samples.length >> 1]!;
  const report = (name: string, samples: number[]) =>
    console.log(
      `${name.padEnd(44)} n=${String(samples.length).padStart(5)}  median ${(median(samples) / 1000).toFixed(2)} s  (${samples.map((ms) => (ms / 1000).toFixed(2)).join(', ')})`,
    );

  try {
    const cold: number[] = [];
    const warm: number[] = [];
    // Alternating, so that a drift in the registry's or the machine's speed hits both alike.
    await build(warmProject);
    for (let run = 0; run < runs; run++) {
      cold.push(await build(randomUUID()));
      warm.push(await build(warmProject));
    }
    report('npm install step, first build (empty cache)', cold);
    report('npm install step, next build (cache hit)', warm);
    console.log(
      `${'dependency install, first / next build'.padEnd(44)} ${(median(cold) / median(warm)).toFixed(1)}x`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
