import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Detection } from '../../core/detect';
import { type CacheLease, cacheTool } from './cache';
import { removeTree, treeSize } from './cache-files';
import { asProcessEnv } from './environment';
import { formatBytes } from './units';

const run = promisify(execFile);

/**
 * npm's installed tree (`node_modules`) kept per project between builds.
 *
 * A download cache alone saves little for npm: `npm ci` spends most of its time unpacking and
 * writing thousands of files, and it deletes any `node_modules` it finds first. So after a
 * build's `npm ci` succeeds, the runner keeps a copy of the tree it made, keyed by everything
 * that decides that tree: the lock file, package.json and the Node.js runtime (native modules
 * are built for one ABI). The next build with the same key gets the copy back and runs
 * `npm install --no-save` over it instead: npm checks the tree against the lock file, finds it
 * complete, runs the project's own install scripts and writes nothing. `npm ci` already proved
 * the pair in sync when the tree was made, so `npm install` has nothing to reconcile.
 */

/** What `npm ci` is replaced by when the tree is restored. */
export const RESTORED_INSTALL = 'npm install --no-save';
const CI_INSTALL = 'npm ci';
/** Beside a kept tree: its size, for the log of the builds restoring it. */
const SIZE_FILE = 'bytes';

export interface InstalledTreeUse {
  /** The tool's cache directory (`<work dir>/cache/<project>/npm`); trees go below it. */
  toolDir: string;
  /** The directory the install step runs in. */
  root: string;
  /** `lockfileKey`'s hash. */
  lockKey: string;
  installCommand: string;
  /** The step environment: its PATH finds the `node` the steps run. */
  env: Record<string, string>;
}

export interface InstalledTree {
  /** The install step's command: `npm install --no-save` over a restored tree, else as given. */
  command: string;
  /** Log lines for the build. */
  notes: string[];
  /** After the install step succeeded: keeps the tree it made for the next build; a log line. */
  afterInstall?(): Promise<string>;
}

/**
 * The install step's command: over npm's installed tree from an earlier build when there is
 * one for the same key; otherwise the detected one (and npm's tree is kept after it).
 */
export async function planInstall(
  cache: CacheLease | undefined,
  detection: Pick<Detection, 'installCommand' | 'packageManager'>,
  root: string,
  env: Record<string, string>,
): Promise<InstalledTree | undefined> {
  const installCommand = detection.installCommand.value;
  if (!installCommand) return undefined;
  if (!cache?.dir || cacheTool(detection) !== 'npm') return { command: installCommand, notes: [] };
  return openInstalledTree({ toolDir: cache.dir, root, lockKey: cache.key, installCommand, env });
}

function sha256(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const runtimes = new Map<string, Promise<string>>();

/**
 * The node the steps would run, as `v22.1.0 linux x64 127`: asked once per PATH for the life
 * of the agent (starting node costs more than restoring a small tree).
 */
function runtime(env: Record<string, string>, cwd: string): Promise<string> {
  const path = env.PATH ?? '';
  let found = runtimes.get(path);
  if (!found) {
    const script =
      'console.log(process.version, process.platform, process.arch, process.versions.modules)';
    found = run('node', ['-e', script], { env: asProcessEnv(env), cwd, timeout: 30_000 }).then(
      ({ stdout }) => stdout.trim(),
    );
    // A failed probe is asked again by the next build.
    found.catch(() => runtimes.delete(path));
    runtimes.set(path, found);
  }
  return found;
}

/**
 * Why the tree cannot be kept for this build, or undefined when it can: only the plain
 * `npm ci` of a lock file, without workspaces (they install below each package too) and
 * without a committed node_modules.
 */
async function unsuitable(use: InstalledTreeUse, packageJson: string | undefined) {
  if (use.installCommand !== CI_INSTALL) return 'the install command is not npm ci';
  if (use.lockKey === 'none') return 'no lock file';
  if (packageJson === undefined) return 'no package.json';
  let manifest: unknown;
  try {
    manifest = JSON.parse(packageJson);
  } catch {
    return 'package.json is not JSON';
  }
  if (typeof manifest === 'object' && manifest !== null && 'workspaces' in manifest)
    return 'npm workspaces';
  if (await exists(join(use.root, 'node_modules'))) return 'node_modules is in the repository';
  return undefined;
}

const unchanged = (command: string, notes: string[] = []): InstalledTree => ({ command, notes });

export async function openInstalledTree(use: InstalledTreeUse): Promise<InstalledTree> {
  const packageJson = await readFile(join(use.root, 'package.json'), 'utf8').catch(() => undefined);
  const why = await unsuitable(use, packageJson);
  if (why) {
    const note =
      use.installCommand === CI_INSTALL ? [`cache: npm node_modules not kept (${why})`] : [];
    return unchanged(use.installCommand, note);
  }
  const key = sha256(use.lockKey, packageJson ?? '', await runtime(use.env, use.root));
  const trees = join(use.toolDir, 'trees');
  const kept = join(trees, key, 'node_modules');
  const target = join(use.root, 'node_modules');

  if (await exists(kept)) {
    try {
      await run('cp', ['-a', kept, target]);
      const bytes = Number(await readFile(join(trees, key, SIZE_FILE), 'utf8').catch(() => 0));
      return unchanged(RESTORED_INSTALL, [
        `cache: npm node_modules restored (${formatBytes(bytes)}, made by npm ci from this package-lock.json and package.json): \`${RESTORED_INSTALL}\` checks it instead of \`${CI_INSTALL}\``,
      ]);
    } catch (error) {
      // A tree pruned while it was copied: the build installs as if there were none.
      await removeTree(target);
      return unchanged(CI_INSTALL, [
        `cache: npm node_modules not restored (${(error as Error).message.split('\n')[0]})`,
      ]);
    }
  }

  return {
    command: use.installCommand,
    notes: [],
    afterInstall: () =>
      keep(target, trees, key).then(
        (bytes) =>
          `cache: npm node_modules kept for the next build with this package-lock.json (${formatBytes(bytes)})`,
        (error: Error) => `cache: npm node_modules not kept (${error.message.split('\n')[0]})`,
      ),
  };
}

/** Copies the installed tree aside, then moves it in place at once: a build never sees half. */
async function keep(target: string, trees: string, key: string): Promise<number> {
  const staging = join(trees, `.staging-${randomUUID()}`);
  await mkdir(staging, { recursive: true });
  try {
    await run('cp', ['-a', target, join(staging, 'node_modules')]);
    const bytes = await treeSize(join(staging, 'node_modules'));
    await writeFile(join(staging, SIZE_FILE), String(bytes));
    // Another build of the same key may have kept its tree first: then ours goes.
    await rename(staging, join(trees, key)).catch(() => undefined);
    await prune(trees, key);
    return bytes;
  } finally {
    await removeTree(staging);
  }
}

/**
 * Only the newest tree stays: an older one is for a lock file the project has moved on from.
 * It is renamed away before deletion, so a build copying it at that moment fails its copy and
 * installs normally rather than getting half a tree.
 */
async function prune(trees: string, keep: string): Promise<void> {
  for (const entry of await readdir(trees)) {
    if (entry === keep || entry.startsWith('.')) continue;
    const aside = join(trees, `.pruned-${randomUUID()}`);
    if (
      await rename(join(trees, entry), aside).then(
        () => true,
        () => false,
      )
    )
      await removeTree(aside);
  }
}
