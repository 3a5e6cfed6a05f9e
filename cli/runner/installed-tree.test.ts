import { execFile } from 'node:child_process';
import {
  chmod,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheStore, openBuildCache } from './cache';
import { treeSize } from './cache-files';
import { asProcessEnv } from './environment';
import { planInstall, RESTORED_INSTALL } from './installed-tree';

const run = promisify(execFile);

// Real npm over a project whose one dependency is a local tarball: no registry needed.
let root: string;
let app: string;
const env = {
  PATH: process.env.PATH ?? '',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

const detection = (installCommand: string | null) => ({
  installCommand: { value: installCommand, evidence: 'test' },
  packageManager: { value: { name: 'npm' as const, version: null }, evidence: 'test' },
  rootDir: '',
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sparki-tree-test-'));
  const dep = join(root, 'dep');
  await mkdir(dep);
  await writeFile(join(dep, 'package.json'), JSON.stringify({ name: 'dep', version: '1.0.0' }));
  await writeFile(join(dep, 'index.js'), 'module.exports = 42;\n');
  app = join(root, 'app');
  await mkdir(app);
  await run('npm', ['pack', '--pack-destination', app, dep], { env: asProcessEnv(env) });
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'app',
      private: true,
      dependencies: { dep: 'file:dep-1.0.0.tgz' },
      // The project's own install script: it must run over a restored tree too.
      scripts: { postinstall: "node -e \"require('fs').writeFileSync('postinstall.txt', 'ran')\"" },
    }),
  );
  await run('npm', ['install', '--package-lock-only'], { cwd: app, env: asProcessEnv(env) });
}, 60_000);

afterAll(() => rm(root, { recursive: true, force: true }));

/** A build as the runner runs it: a fresh checkout, the project's cache, the install step. */
async function build(store: CacheStore, options: { command?: string; source?: string } = {}) {
  const checkout = await mkdtemp(join(root, 'build-'));
  await cp(options.source ?? app, checkout, { recursive: true });
  const found = detection(options.command ?? 'npm ci');
  const jobDir = join(checkout, '.job');
  const lease = (await openBuildCache(store, {
    projectId: 'project',
    lease: checkout.slice(-6),
    detection: found,
    checkout,
    jobDir,
    home: join(checkout, '.home'),
  }))!;
  const stepEnv = { ...env, ...lease.env };
  const plan = (await planInstall(lease, found, checkout, stepEnv))!;
  const restored = await stat(join(checkout, 'node_modules')).then(
    () => true,
    () => false,
  );
  await run('sh', ['-c', plan.command], { cwd: checkout, env: asProcessEnv(stepEnv) });
  const kept = await plan.afterInstall?.();
  await lease.release(true);
  return { checkout, plan, restored, kept };
}

describe("npm's installed tree kept between builds", () => {
  it('keeps the tree npm ci made and restores it for the next build with the same lock file', async () => {
    const store = new CacheStore(join(root, 'cache-a'), 1e9, () => undefined);
    const first = await build(store);
    expect(first.plan.command).toBe('npm ci');
    expect(first.restored).toBe(false);
    expect(first.kept).toMatch(
      /^cache: npm node_modules kept for the next build .*\(\d+(\.\d)? (B|KiB)\)$/,
    );

    const second = await build(store);
    expect(second.restored).toBe(true);
    expect(second.plan.command).toBe(RESTORED_INSTALL);
    expect(second.plan.notes[0]).toMatch(/^cache: npm node_modules restored/);
    expect(second.kept).toBeUndefined();
    // The tree works, the project's install script ran, and the lock file is untouched.
    const { stdout } = await run('node', ['-p', "require('dep')"], { cwd: second.checkout });
    expect(stdout.trim()).toBe('42');
    expect(await readFile(join(second.checkout, 'postinstall.txt'), 'utf8')).toBe('ran');
    expect(await readFile(join(second.checkout, 'package-lock.json'), 'utf8')).toBe(
      await readFile(join(app, 'package-lock.json'), 'utf8'),
    );
  }, 120_000);

  it('installs afresh when package.json changed, and keeps only the newest tree', async () => {
    const store = new CacheStore(join(root, 'cache-b'), 1e9, () => undefined);
    await build(store);
    const changed = await mkdtemp(join(root, 'changed-'));
    await cp(app, changed, { recursive: true });
    const manifest = JSON.parse(await readFile(join(changed, 'package.json'), 'utf8'));
    await writeFile(
      join(changed, 'package.json'),
      JSON.stringify({ ...manifest, scripts: { ...manifest.scripts, build: 'true' } }),
    );
    const next = await build(store, { source: changed });
    expect(next.plan.command).toBe('npm ci');
    expect(next.restored).toBe(false);
    expect(next.kept).toMatch(/kept/);
    const dir = join(root, 'cache-b', 'project', 'npm');
    const trees = await readdir(join(dir, 'trees'));
    expect(trees.filter((name) => !name.startsWith('.'))).toHaveLength(1);
    // The kept tree counts towards the cache's size, so the cap and eviction see it.
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    expect(meta.bytes).toBeGreaterThanOrEqual(await treeSize(join(dir, 'trees')));
    expect(await treeSize(join(dir, 'trees'))).toBeGreaterThan(0);
  }, 120_000);

  it('leaves other install commands and npm workspaces alone, saying why for npm ci', async () => {
    const store = new CacheStore(join(root, 'cache-c'), 1e9, () => undefined);
    const custom = await build(store, { command: 'npm install' });
    expect(custom.plan).toEqual({ command: 'npm install', notes: [] });

    const workspace = await mkdtemp(join(root, 'workspace-'));
    await cp(app, workspace, { recursive: true });
    const manifest = JSON.parse(await readFile(join(workspace, 'package.json'), 'utf8'));
    await writeFile(
      join(workspace, 'package.json'),
      JSON.stringify({ ...manifest, workspaces: [] }),
    );
    const lease = (await openBuildCache(store, {
      projectId: 'project',
      lease: 'ws',
      detection: detection('npm ci'),
      checkout: workspace,
      jobDir: join(workspace, '.job'),
      home: workspace,
    }))!;
    const plan = await planInstall(lease, detection('npm ci'), workspace, env);
    expect(plan).toEqual({
      command: 'npm ci',
      notes: ['cache: npm node_modules not kept (npm workspaces)'],
    });
    await lease.release(false);
  }, 120_000);

  it('installs with npm ci when the kept tree cannot be copied', async () => {
    const store = new CacheStore(join(root, 'cache-d'), 1e9, () => undefined);
    await build(store);
    // A `cp` that fails, as a copy does when the tree is pruned under it.
    const bin = join(root, 'failing-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'cp'), '#!/bin/sh\necho "cp: tree went away" >&2\nexit 1\n');
    await chmod(join(bin, 'cp'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    let next: Awaited<ReturnType<typeof build>>;
    try {
      next = await build(store);
    } finally {
      process.env.PATH = path;
    }
    expect(next.plan.command).toBe('npm ci');
    expect(next.plan.notes).toHaveLength(1);
    expect(next.plan.notes[0]).toMatch(
      /^cache: npm node_modules not restored \(Command failed: cp -a /,
    );
    expect(next.kept).toBeUndefined();
  }, 120_000);
});
