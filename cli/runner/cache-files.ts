import type { Dirent } from 'node:fs';
import { chmod, lstat, open, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from './backoff';

// The file-system pieces of the dependency caches: a lock between processes, the size of a
// tree, and removal of trees that tools made read-only.

/** A process that is gone leaves its locks and leases behind: they count for nothing. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/**
 * Runs `fn` holding `file` as a lock: created exclusively, with the holder's pid inside. Every
 * agent on the machine sharing a work directory, and every job inside one agent, takes it, so
 * each waits its turn. A lock whose holder died is taken over.
 */
export async function withFileLock<T>(
  file: string,
  fn: () => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    // An empty file is a holder between creating and writing it: alive.
    const holder = await readFile(file, 'utf8').catch(() => '');
    if (holder !== '' && !processAlive(Number(holder))) {
      await unlink(file).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${file} is held by process ${holder}`);
    await sleep(20);
  }
  try {
    return await fn();
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

/** Bytes of the regular files below `path` (0 if it does not exist). */
export async function treeSize(path: string): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return 0;
    throw error;
  }
  let total = 0;
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) total += await treeSize(child);
    else if (entry.isFile()) total += (await lstat(child).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

async function makeWritable(path: string): Promise<void> {
  await chmod(path, 0o700).catch(() => undefined);
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) await makeWritable(join(path, entry.name));
  }
}

/**
 * Removes a tree, also one with read-only directories: Go's module cache is written that way
 * so that builds cannot change it, and only its owner making it writable again can delete it.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (error) {
    if (errorCode(error) !== 'EACCES' && errorCode(error) !== 'EPERM') throw error;
    await makeWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}
