import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Detection, PackageManagerName } from '../../core/detect';
import { processAlive, removeTree, treeSize, withFileLock } from './cache-files';
import { formatBytes } from './units';

/**
 * Dependency caches kept on the runner between builds, one directory per project and tool:
 * `<work dir>/cache/<project id>/<tool>/data`, handed to the tool through its own variables.
 * docs/runner-agent.md explains the keying, the sharing and the eviction.
 */

export type CacheTool = 'npm' | 'pnpm' | 'yarn' | 'bun' | 'pip' | 'uv' | 'poetry' | 'go' | 'cargo';

interface ToolCache {
  /** Lock files, in the order looked for: the hash of the first found keys the install. */
  lockfiles: string[];
  /**
   * Safe for concurrent builds by the tool's own design. Any other is used by one build at a
   * time; a build that finds it in use gets a fresh cache of its own.
   */
  shared: boolean;
  env(dir: string, home: string): Record<string, string>;
}

export const CACHE_TOOLS: Record<CacheTool, ToolCache> = {
  npm: {
    lockfiles: ['package-lock.json', 'npm-shrinkwrap.json'],
    shared: true,
    env: (dir) => ({ npm_config_cache: dir }),
  },
  pnpm: {
    lockfiles: ['pnpm-lock.yaml'],
    shared: true,
    // pnpm before 11 reads npm_config_*, pnpm 11 pnpm_config_*.
    env: (dir) => ({
      npm_config_store_dir: join(dir, 'store'),
      pnpm_config_store_dir: join(dir, 'store'),
      npm_config_cache_dir: join(dir, 'metadata'),
      pnpm_config_cache_dir: join(dir, 'metadata'),
    }),
  },
  yarn: {
    lockfiles: ['yarn.lock'],
    shared: false,
    // Classic's cache folder; Berry's shared cache lives in its global folder.
    env: (dir) => ({ YARN_CACHE_FOLDER: join(dir, 'classic'), YARN_GLOBAL_FOLDER: dir }),
  },
  bun: {
    lockfiles: ['bun.lock', 'bun.lockb'],
    shared: false,
    env: (dir) => ({ BUN_INSTALL_CACHE_DIR: dir }),
  },
  pip: {
    lockfiles: ['requirements.txt', 'Pipfile.lock'],
    shared: false,
    env: (dir) => ({ PIP_CACHE_DIR: dir }),
  },
  uv: { lockfiles: ['uv.lock'], shared: true, env: (dir) => ({ UV_CACHE_DIR: dir }) },
  poetry: {
    lockfiles: ['poetry.lock'],
    shared: false,
    // Its virtualenvs would go to the cache too, one per checkout path: they stay the build's.
    env: (dir, home) => ({
      POETRY_CACHE_DIR: dir,
      POETRY_VIRTUALENVS_PATH: join(home, '.cache', 'pypoetry', 'virtualenvs'),
    }),
  },
  go: {
    lockfiles: ['go.sum'],
    shared: true,
    env: (dir) => ({ GOMODCACHE: join(dir, 'mod'), GOCACHE: join(dir, 'build') }),
  },
  cargo: { lockfiles: ['Cargo.lock'], shared: true, env: (dir) => ({ CARGO_HOME: dir }) },
};

const MANAGER_TOOLS: Partial<Record<PackageManagerName, CacheTool>> = {
  npm: 'npm',
  pnpm: 'pnpm',
  yarn: 'yarn',
  bun: 'bun',
  pip: 'pip',
  pipenv: 'pip',
  uv: 'uv',
  poetry: 'poetry',
  go: 'go',
  cargo: 'cargo',
};

/** The cache a build installs through: its package manager's, if Sparki keeps one. */
export function cacheTool(detection: Pick<Detection, 'packageManager'>): CacheTool | undefined {
  const manager = detection.packageManager.value?.name;
  return manager && MANAGER_TOOLS[manager];
}

const NO_LOCKFILE = 'none';

/**
 * SHA-256 of the tool's lock file nearest the root directory (the root directory, then each
 * parent up to the checkout: a monorepo keeps it at the top), or "none".
 */
export async function lockfileKey(checkout: string, rootDir: string, tool: CacheTool) {
  for (let dir = posix.normalize(rootDir || '.'); ; dir = posix.dirname(dir)) {
    for (const name of CACHE_TOOLS[tool].lockfiles) {
      const path = posix.join(dir, name);
      const content = await readFile(join(checkout, path)).catch(() => undefined);
      if (content)
        return { key: createHash('sha256').update(content).digest('hex'), lockfile: path };
    }
    if (dir === '.') return { key: NO_LOCKFILE, lockfile: undefined };
  }
}

interface Meta {
  /** ms since the epoch: when a build last let go of the cache. */
  last_used: number;
  /** Size of the tool's directory when a build last let go of it (it changes only while leased). */
  bytes: number;
  /** Lock file hashes installed with this cache, the latest last. */
  keys: string[];
}

const KEYS_KEPT = 20;

/** hit: this lock file was installed with the cache before; partial: another one was. */
export type CacheState = 'hit' | 'partial' | 'miss' | 'busy';

export interface CacheUse {
  projectId: string;
  /** Names the lease: build id and attempt. */
  lease: string;
  tool: CacheTool;
  /** `lockfileKey`'s: the hash, and the lock file's path for the log. */
  key: string;
  lockfile?: string;
  /** Where a cache in use by another build is replaced by a fresh one. */
  jobDir: string;
  home: string;
}

export interface CacheLease {
  state: CacheState;
  /** The tool's cache directory, when this build has the project's (not a fresh one). */
  dir?: string;
  /** The lock file's hash (`lockfileKey`). */
  key: string;
  env: Record<string, string>;
  /** The build log's line: "cache: npm hit (123.4 MiB)". */
  summary: string;
  /** After the build; `installed` records the key: the install step succeeded with it. */
  release(installed: boolean): Promise<void>;
}

async function readMeta(dir: string): Promise<Meta | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as Meta;
  } catch {
    return undefined;
  }
}

async function liveLeases(dir: string): Promise<string[]> {
  const leases = await readdir(join(dir, 'leases')).catch(() => []);
  return leases.filter((lease) => processAlive(Number(lease.split('-')[0])));
}

/** The tool's data, and npm's installed trees beside it (installed-tree.ts). */
async function cacheSize(dir: string): Promise<number> {
  return (await treeSize(join(dir, 'data'))) + (await treeSize(join(dir, 'trees')));
}

function describe(tool: CacheTool, state: CacheState, bytes: number, lockfile?: string): string {
  switch (state) {
    case 'hit':
      return `cache: ${tool} hit (${formatBytes(bytes)})`;
    case 'partial':
      return `cache: ${tool} partial (${formatBytes(bytes)}, from builds of another ${lockfile ?? 'lock file'})`;
    case 'miss':
      return `cache: ${tool} miss`;
    case 'busy':
      return `cache: ${tool} miss (another build is using this project's ${tool} cache: a fresh one for this build)`;
  }
}

export class CacheStore {
  constructor(
    readonly root: string,
    private readonly maxBytes: number,
    private readonly log: (message: string) => void,
  ) {}

  private get lockFile(): string {
    return join(this.root, '.lock');
  }

  private get trash(): string {
    return join(this.root, '.trash');
  }

  async open(use: CacheUse): Promise<CacheLease> {
    const tool = CACHE_TOOLS[use.tool];
    const dir = join(this.root, use.projectId, use.tool);
    const data = join(dir, 'data');
    const leaseFile = join(dir, 'leases', `${process.pid}-${use.lease}`);
    await mkdir(this.root, { recursive: true });
    const taken = await withFileLock(this.lockFile, async () => {
      // Under the lock: an eviction removes emptied project directories.
      await Promise.all([
        mkdir(join(dir, 'leases'), { recursive: true }),
        mkdir(data, { recursive: true }),
      ]);
      if (!tool.shared && (await liveLeases(dir)).length > 0) return undefined;
      await writeFile(leaseFile, '');
      return (await readMeta(dir)) ?? { last_used: 0, bytes: 0, keys: [] };
    });
    if (!taken) {
      const fresh = join(use.jobDir, 'cache', use.tool);
      await mkdir(fresh, { recursive: true });
      return {
        state: 'busy',
        key: use.key,
        env: tool.env(fresh, use.home),
        summary: describe(use.tool, 'busy', 0),
        release: async () => undefined,
      };
    }
    const state: CacheState =
      taken.bytes === 0 ? 'miss' : taken.keys.includes(use.key) ? 'hit' : 'partial';
    return {
      state,
      dir,
      key: use.key,
      env: tool.env(data, use.home),
      summary: describe(use.tool, state, taken.bytes, use.lockfile),
      release: async (installed) => {
        // Measured while still leased: no other build evicts it meanwhile.
        const bytes = await cacheSize(dir);
        await withFileLock(this.lockFile, async () => {
          const meta = (await readMeta(dir)) ?? taken;
          const keys = meta.keys.filter((key) => key !== use.key);
          if (installed || meta.keys.includes(use.key)) keys.push(use.key);
          const updated: Meta = { last_used: Date.now(), bytes, keys: keys.slice(-KEYS_KEPT) };
          await writeFile(join(dir, 'meta.json'), JSON.stringify(updated));
          await unlink(leaseFile).catch(() => undefined);
        });
        await this.evict();
      },
    };
  }

  /**
   * Least recently used first, removes caches no build holds until the rest fit in the cap.
   * Under the lock they are only moved aside; the slow deletion happens after it.
   */
  async evict(): Promise<void> {
    await withFileLock(this.lockFile, async () => {
      const caches = await this.list();
      let total = caches.reduce((sum, cache) => sum + cache.bytes, 0);
      caches.sort((a, b) => a.last_used - b.last_used);
      for (const cache of caches) {
        if (total <= this.maxBytes) break;
        if ((await liveLeases(cache.dir)).length > 0) continue;
        await mkdir(this.trash, { recursive: true });
        await rename(cache.dir, join(this.trash, `${cache.name.replace('/', '-')}-${Date.now()}`));
        await rmdir(join(cache.dir, '..')).catch(() => undefined);
        total -= cache.bytes;
        const unused = new Date(cache.last_used).toISOString();
        this.log(`cache: evicted ${cache.name} (${formatBytes(cache.bytes)}, last used ${unused})`);
      }
    });
    const trash = await readdir(this.trash).catch(() => []);
    await Promise.all(trash.map((entry) => removeTree(join(this.trash, entry))));
  }

  private async list() {
    const caches: (Meta & { dir: string; name: string })[] = [];
    const projects = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    for (const project of projects) {
      if (!project.isDirectory() || project.name.startsWith('.')) continue;
      for (const tool of await readdir(join(this.root, project.name)).catch(() => [])) {
        const dir = join(this.root, project.name, tool);
        // A cache no build has let go of yet (its agent died): measured now.
        const meta = (await readMeta(dir)) ?? {
          last_used: 0,
          bytes: await cacheSize(dir),
          keys: [],
        };
        caches.push({ ...meta, dir, name: `${project.name}/${tool}` });
      }
    }
    return caches;
  }
}

export interface BuildCache {
  projectId: string;
  lease: string;
  detection: Pick<Detection, 'packageManager' | 'installCommand' | 'rootDir'>;
  checkout: string;
  jobDir: string;
  home: string;
}

/** The project's cache for the package manager its install step runs, if Sparki keeps one. */
export async function openBuildCache(
  store: CacheStore,
  { detection, checkout, ...build }: BuildCache,
): Promise<CacheLease | undefined> {
  const tool = cacheTool(detection);
  if (!tool || !detection.installCommand.value) return undefined;
  const key = await lockfileKey(checkout, detection.rootDir, tool);
  return store.open({ ...build, tool, ...key });
}
