import { DetectionError } from './types';

/**
 * Read-only view of a checkout. Paths are POSIX, relative to the checkout root ('' is the root).
 * Asynchronous so that a provider's file listing over HTTP can stand behind it as well as a
 * local directory.
 */
export interface SourceTree {
  /** Whether a file or directory exists. */
  exists(path: string): Promise<boolean>;
  /** A file's UTF-8 text, or undefined when it is not a readable file. */
  read(path: string): Promise<string | undefined>;
  /** Entry names of a directory, or [] when it is not one. */
  list(dir: string): Promise<string[]>;
}

/**
 * Normalises a relative path ('./a//b/' → 'a/b'). Absolute paths and paths that climb out of the
 * checkout are refused: a root directory comes from project settings, not from a trusted source.
 */
export function normalizePath(path: string): string {
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) {
    throw new DetectionError(`"${path}" must be relative to the repository root`);
  }
  const parts: string[] = [];
  for (const part of path.split(/[\\/]/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) {
        throw new DetectionError(`"${path}" points outside the repository`);
      }
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return parts.join('/');
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** The directory containing `path`, '' for a top-level entry. */
export function parentDir(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** A tree held in memory: keys are file paths, values their contents. */
export function memoryTree(files: Record<string, string>): SourceTree {
  const contents = new Map(
    Object.entries(files).map(([path, text]) => [normalizePath(path), text]),
  );
  const children = (dir: string) => {
    const prefix = dir === '' ? '' : `${dir}/`;
    const names = new Set<string>();
    for (const path of contents.keys()) {
      if (path.startsWith(prefix)) names.add(path.slice(prefix.length).split('/')[0]!);
    }
    return [...names].sort();
  };
  return {
    exists: async (path) => {
      const normalized = normalizePath(path);
      return normalized === '' || contents.has(normalized) || children(normalized).length > 0;
    },
    read: async (path) => contents.get(normalizePath(path)),
    list: async (dir) => {
      const normalized = normalizePath(dir);
      return contents.has(normalized) ? [] : children(normalized);
    },
  };
}
