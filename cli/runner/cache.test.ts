import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheStore, type CacheUse, cacheTool, lockfileKey, openBuildCache } from './cache';
import { removeTree, treeSize, withFileLock } from './cache-files';

const PROJECT = '00000000-0000-4000-8000-00000000000a';
const OTHER = '00000000-0000-4000-8000-00000000000b';

/** A pid that belonged to a process and no longer does. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sparki-cache-test-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function use(overrides: Partial<CacheUse> = {}): CacheUse {
  return {
    projectId: PROJECT,
    lease: 'build-1',
    tool: 'npm',
    key: 'lock-a',
    lockfile: 'package-lock.json',
    jobDir: join(root, 'job'),
    home: join(root, 'job', 'home'),
    ...overrides,
  };
}

async function fill(dir: string, bytes: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'blob'), Buffer.alloc(bytes));
}

describe('which cache and which key', () => {
  it("follows the build's package manager", () => {
    const manager = (name: string | null) => ({
      packageManager: { value: name ? { name, version: null } : null, evidence: '' },
    });
    expect(cacheTool(manager('pnpm') as never)).toBe('pnpm');
    expect(cacheTool(manager('pipenv') as never)).toBe('pip');
    expect(cacheTool(manager('maven') as never)).toBeUndefined();
    expect(cacheTool(manager(null) as never)).toBeUndefined();
  });

  it('hashes the lock file nearest the root directory, up to the checkout', async () => {
    const checkout = join(root, 'checkout');
    await mkdir(join(checkout, 'apps', 'web'), { recursive: true });
    expect(await lockfileKey(checkout, 'apps/web', 'npm')).toEqual({
      key: 'none',
      lockfile: undefined,
    });
    await writeFile(join(checkout, 'package-lock.json'), '{"v":1}');
    const top = await lockfileKey(checkout, 'apps/web', 'npm');
    expect(top).toEqual({
      key: expect.stringMatching(/^[0-9a-f]{64}$/),
      lockfile: 'package-lock.json',
    });
    await writeFile(join(checkout, 'apps', 'web', 'package-lock.json'), '{"v":2}');
    const near = await lockfileKey(checkout, 'apps/web', 'npm');
    expect(near.lockfile).toBe('apps/web/package-lock.json');
    expect(near.key).not.toBe(top.key);
    expect((await lockfileKey(checkout, '', 'npm')).key).toBe(top.key);
  });

  it('opens no cache for a build without an install step', async () => {
    const store = new CacheStore(join(root, 'cache'), 1e9, () => undefined);
    const detection = {
      rootDir: '',
      packageManager: { value: { name: 'npm' as const, version: null }, evidence: '' },
      installCommand: { value: null, evidence: '' },
    };
    const { projectId, lease, jobDir, home } = use();
    const build = { projectId, lease, jobDir, home, checkout: root, detection };
    expect(await openBuildCache(store, build)).toBeUndefined();
    const installing = { ...detection, installCommand: { value: 'npm install', evidence: '' } };
    const cache = await openBuildCache(store, { ...build, detection: installing });
    expect(cache?.summary).toBe('cache: npm miss');
    await cache?.release(true);
  });
});

describe('CacheStore', () => {
  it('keeps a cache per project and tool: miss, then hit for the same lock file, else partial', async () => {
    const store = new CacheStore(join(root, 'cache'), 1e9, () => undefined);
    const first = await store.open(use());
    const dir = join(root, 'cache', PROJECT, 'npm', 'data');
    expect(first).toMatchObject({ state: 'miss', summary: 'cache: npm miss' });
    expect(first.env).toEqual({ npm_config_cache: dir });
    await fill(dir, 3 * 1024 * 1024);
    await first.release(true);

    const again = await store.open(use({ lease: 'build-2' }));
    expect(again).toMatchObject({ state: 'hit', summary: 'cache: npm hit (3.0 MiB)' });
    await again.release(true);

    const changed = await store.open(use({ lease: 'build-3', key: 'lock-b' }));
    expect(changed.state).toBe('partial');
    expect(changed.summary).toBe(
      'cache: npm partial (3.0 MiB, from builds of another package-lock.json)',
    );
    // The install failed: lock-b is not recorded.
    await changed.release(false);
    expect((await store.open(use({ lease: 'build-4', key: 'lock-b' }))).state).toBe('partial');

    const other = await store.open(use({ projectId: OTHER, lease: 'build-5' }));
    expect(other.state).toBe('miss');
    expect(other.env.npm_config_cache).toBe(join(root, 'cache', OTHER, 'npm', 'data'));
  });

  it('shares a concurrency-safe cache between concurrent builds', async () => {
    const store = new CacheStore(join(root, 'cache'), 1e9, () => undefined);
    const [a, b] = await Promise.all([
      store.open(use({ tool: 'uv', lease: 'a' })),
      store.open(use({ tool: 'uv', lease: 'b' })),
    ]);
    expect(a!.env).toEqual(b!.env);
    expect(a!.env.UV_CACHE_DIR).toBe(join(root, 'cache', PROJECT, 'uv', 'data'));
  });

  it('gives a second concurrent build of a pip project a fresh cache of its own', async () => {
    const store = new CacheStore(join(root, 'cache'), 1e9, () => undefined);
    const first = await store.open(use({ tool: 'pip', lease: 'a' }));
    const second = await store.open(use({ tool: 'pip', lease: 'b', jobDir: join(root, 'job-b') }));
    expect(first.env.PIP_CACHE_DIR).toBe(join(root, 'cache', PROJECT, 'pip', 'data'));
    expect(second.state).toBe('busy');
    expect(second.env.PIP_CACHE_DIR).toBe(join(root, 'job-b', 'cache', 'pip'));
    expect(second.summary).toMatch(/^cache: pip miss \(another build is using/);
    await first.release(true);
    const third = await store.open(use({ tool: 'pip', lease: 'c' }));
    expect(third.env.PIP_CACHE_DIR).toBe(first.env.PIP_CACHE_DIR);
  });

  it('ignores the leases of a process that died (an agent killed mid-build)', async () => {
    const store = new CacheStore(join(root, 'cache'), 1e9, () => undefined);
    const leases = join(root, 'cache', PROJECT, 'pip', 'leases');
    await mkdir(leases, { recursive: true });
    await writeFile(join(leases, `${deadPid()}-crashed`), '');
    expect((await store.open(use({ tool: 'pip' }))).state).toBe('miss');
  });

  it('evicts the least recently used caches nobody holds until the rest fit the cap', async () => {
    const evicted: string[] = [];
    const cap = 5 * 1024 * 1024;
    const store = new CacheStore(join(root, 'cache'), cap, (line) => evicted.push(line));
    const MiB = 1024 * 1024;
    // Used in this order: OTHER/npm, PROJECT/go (still held), PROJECT/npm, OTHER/pip.
    const build = async (projectId: string, tool: CacheUse['tool'], bytes: number) => {
      const cache = await store.open(use({ projectId, tool, lease: `${projectId}-${tool}` }));
      const dir = Object.values(cache.env)[0]!;
      await fill(dir, bytes);
      // Distinct last-used times, a millisecond apart at least.
      await new Promise((resolve) => setTimeout(resolve, 5));
      return cache;
    };
    await (await build(OTHER, 'npm', 2 * MiB)).release(true);
    const held = await build(PROJECT, 'go', 2 * MiB);
    expect(evicted).toEqual([]);
    // 6 MiB > 5 MiB, the held go cache included: the oldest of the others, OTHER/npm, goes.
    await (await build(PROJECT, 'npm', 2 * MiB)).release(true);
    expect(evicted).toEqual([
      expect.stringMatching(`^cache: evicted ${OTHER}/npm \\(2.0 MiB, last used `),
    ]);
    await expect(stat(join(root, 'cache', OTHER))).rejects.toThrow();
    await held.release(true);
    expect(evicted).toHaveLength(1);

    // Held caches stay even when they are the oldest: PROJECT/npm goes instead of PROJECT/go.
    const holding = await store.open(use({ tool: 'go', lease: 'holding' }));
    await (await build(OTHER, 'pip', 3 * MiB)).release(true);
    expect(evicted.slice(1)).toEqual([expect.stringContaining(`evicted ${PROJECT}/npm`)]);
    expect(await readdir(join(root, 'cache', PROJECT))).toEqual(['go']);
    await holding.release(true);
    expect(evicted).toHaveLength(2);
    expect(await readdir(join(root, 'cache', '.trash'))).toEqual([]);
  });
});

describe('cache files', () => {
  it('lets one holder at a time through the lock, and takes over a dead holder', async () => {
    const lock = join(root, 'lock');
    const order: string[] = [];
    const hold = (name: string) =>
      withFileLock(lock, async () => {
        order.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 30));
        order.push(`${name} out`);
      });
    await Promise.all([hold('a'), hold('b')]);
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out']);

    await writeFile(lock, String(deadPid()));
    expect(await withFileLock(lock, async () => 'taken over', 1_000)).toBe('taken over');
    await writeFile(lock, String(process.pid));
    await expect(withFileLock(lock, async () => 'no', 100)).rejects.toThrow(/is held by/);
  });

  it("measures a tree and removes one with read-only directories (Go's module cache)", async () => {
    const dir = join(root, 'mod', 'example.com', 'm@v1.0.0');
    await fill(dir, 1000);
    await writeFile(join(dir, 'go.mod'), 'module m\n');
    expect(await treeSize(join(root, 'mod'))).toBe(1009);
    expect(await treeSize(join(root, 'absent'))).toBe(0);
    await chmod(dir, 0o555);
    await removeTree(join(root, 'mod'));
    await expect(stat(join(root, 'mod'))).rejects.toThrow();
  });
});
