import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { DetectionError, normalizePath, type SourceTree } from '../core/detect';

/**
 * A checkout on the local disk as a SourceTree. Symbolic links that lead outside the checkout
 * read as absent: a repository must not make detection read the runner's own files.
 */
export async function fileSystemTree(dir: string): Promise<SourceTree> {
  const root = await realpath(dir).catch(() => undefined);
  if (!root || !(await stat(root)).isDirectory()) {
    throw new DetectionError(`directory "${dir}" does not exist`);
  }
  const resolve = async (path: string) => {
    const real = await realpath(join(root, normalizePath(path))).catch(() => undefined);
    return real && (real === root || real.startsWith(root + sep)) ? real : undefined;
  };
  return {
    exists: async (path) => (await resolve(path)) !== undefined,
    async read(path) {
      const real = await resolve(path);
      if (!real || !(await stat(real)).isFile()) return undefined;
      return readFile(real, 'utf8');
    },
    async list(path) {
      const real = await resolve(path);
      if (!real || !(await stat(real)).isDirectory()) return [];
      return (await readdir(real)).sort();
    },
  };
}
