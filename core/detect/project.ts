import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { joinPath, parentDir, type SourceTree } from './source-tree';
import { DetectionError } from './types';

const stringRecord = z.record(z.string(), z.string()).catch({});
const packageJsonSchema = z.object({
  main: z.string().optional().catch(undefined),
  module: z.string().optional().catch(undefined),
  scripts: stringRecord,
  dependencies: stringRecord,
  devDependencies: stringRecord,
  optionalDependencies: stringRecord,
  engines: z
    .object({
      node: z.string().optional().catch(undefined),
      bun: z.string().optional().catch(undefined),
    })
    .catch({}),
  volta: z.object({ node: z.string().optional().catch(undefined) }).catch({}),
});
export type PackageJson = z.infer<typeof packageJsonSchema>;

/** A file found by `findUp`: its path in the checkout and how evidence names it. */
export interface Found {
  name: string;
  path: string;
  label: string;
}

/**
 * The project's files as detection sees them: paths relative to the root directory, reads
 * cached, manifests parsed once, with errors that name the file.
 */
export class Project {
  private readonly cache = new Map<string, Promise<string | undefined>>();
  // Frameworks are tried one after another and many look for the same files.
  private readonly existsCache = new Map<string, Promise<boolean>>();
  private readonly listings = new Map<string, Promise<string[]>>();
  private readonly parsed = new Map<string, Promise<unknown>>();
  private packageJsonCache: Promise<PackageJson | undefined> | undefined;

  constructor(
    private readonly tree: SourceTree,
    readonly rootDir: string,
  ) {}

  private full(path: string): string {
    return path === '' ? this.rootDir : joinPath(this.rootDir, path);
  }

  read(path: string): Promise<string | undefined> {
    return this.readInCheckout(this.full(path));
  }

  /** Reads a path relative to the checkout root rather than the root directory. */
  readInCheckout(path: string): Promise<string | undefined> {
    let pending = this.cache.get(path);
    if (!pending) {
      pending = this.listed(path).then((listed) => (listed ? this.tree.read(path) : undefined));
      this.cache.set(path, pending);
    }
    return pending;
  }

  private listInCheckout(dir: string): Promise<string[]> {
    let pending = this.listings.get(dir);
    if (!pending) {
      pending = this.tree.list(dir);
      this.listings.set(dir, pending);
    }
    return pending;
  }

  /**
   * Whether the directory holding `path` lists it. Most files detection asks for are absent, and
   * one listing per directory answers for all of them, where a look-up each would cost a call
   * to the tree (a system call, or a request to a git provider).
   */
  private async listed(path: string): Promise<boolean> {
    if (path === '') return true;
    const dir = parentDir(path);
    if (!(await this.listed(dir))) return false;
    return (await this.listInCheckout(dir)).includes(path.slice(dir === '' ? 0 : dir.length + 1));
  }

  has(path: string): Promise<boolean> {
    return this.existsInCheckout(this.full(path));
  }

  private existsInCheckout(path: string): Promise<boolean> {
    let pending = this.existsCache.get(path);
    if (!pending) {
      // The tree has the last word: a listed symbolic link may lead outside the checkout.
      pending = this.listed(path).then((listed) => listed && this.tree.exists(path));
      this.existsCache.set(path, pending);
    }
    return pending;
  }

  /** The first of `paths` that exists. */
  async firstPresent(paths: readonly string[]): Promise<string | undefined> {
    for (const path of paths) {
      if (await this.has(path)) return path;
    }
    return undefined;
  }

  list(dir = ''): Promise<string[]> {
    return this.listInCheckout(this.full(dir));
  }

  /** The first of `paths` that exists as a file, with its text. */
  async firstFile(paths: readonly string[]): Promise<{ path: string; text: string } | undefined> {
    for (const path of paths) {
      const text = await this.read(path);
      if (text !== undefined) return { path, text };
    }
    return undefined;
  }

  /** A manifest parsed once; the result is shared, so callers must not change it. */
  private parse(path: string, format: string, parser: (text: string) => unknown) {
    let pending = this.parsed.get(path);
    if (!pending) {
      pending = this.read(path).then((text) => {
        if (text === undefined) return undefined;
        try {
          return parser(text);
        } catch (error) {
          throw new DetectionError(`${path} is not valid ${format}: ${(error as Error).message}`);
        }
      });
      this.parsed.set(path, pending);
    }
    return pending;
  }

  json(path: string): Promise<unknown> {
    return this.parse(path, 'JSON', JSON.parse);
  }

  /** JSON with comments and trailing commas (deno.jsonc, tsconfig.json style). */
  jsonc(path: string): Promise<unknown> {
    return this.parse(path, 'JSON', (text) => JSON.parse(stripJsonComments(text)));
  }

  toml(path: string): Promise<Record<string, unknown> | undefined> {
    return this.parse(path, 'TOML', parseToml) as Promise<Record<string, unknown> | undefined>;
  }

  packageJson(): Promise<PackageJson | undefined> {
    this.packageJsonCache ??= this.json('package.json').then((raw) => {
      if (raw === undefined) return undefined;
      // Fields of the wrong type read as absent; only a non-object is beyond reading.
      const parsed = packageJsonSchema.safeParse(raw);
      if (!parsed.success) throw new DetectionError('package.json is not a JSON object');
      return parsed.data;
    });
    return this.packageJsonCache;
  }

  /** Evidence that package.json lists one of `names` in its dependencies, or undefined. */
  async dependsOn(...names: string[]): Promise<string | undefined> {
    const pkg = await this.packageJson();
    if (!pkg) return undefined;
    const name = names.find((candidate) =>
      [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies].some((deps) =>
        Object.hasOwn(deps, candidate),
      ),
    );
    return name && `package.json depends on "${name}"`;
  }

  async script(name: string): Promise<string | undefined> {
    return (await this.packageJson())?.scripts[name];
  }

  /**
   * The root directory, then each parent up to the repository root: in a monorepo the lockfile
   * and version pins usually live at the top.
   */
  dirsUp(): string[] {
    const dirs = [this.rootDir];
    for (let dir = this.rootDir; dir !== ''; ) {
      dir = parentDir(dir);
      dirs.push(dir);
    }
    return dirs;
  }

  /** How evidence names a file in `dir`. */
  label(dir: string, name: string): string {
    if (dir === this.rootDir) return name;
    return dir === '' ? `${name} at the repository root` : joinPath(dir, name);
  }

  /** Those of `names` present in the nearest directory (root directory upwards) holding any. */
  async findUp(...names: string[]): Promise<Found[]> {
    for (const dir of this.dirsUp()) {
      const found: Found[] = [];
      for (const name of names) {
        const path = joinPath(dir, name);
        if (await this.existsInCheckout(path))
          found.push({ name, path, label: this.label(dir, name) });
      }
      if (found.length > 0) return found;
    }
    return [];
  }
}

/** Evidence quoting a package.json script. */
export function scriptEvidence(name: string, script: string): string {
  return `package.json script "${name}": "${script}"`;
}

/**
 * A value given on a command line flag inside a script, e.g. `vite build --outDir out` or
 * `--out-dir=out`.
 */
export function flagValue(
  script: string | undefined,
  flags: readonly string[],
): string | undefined {
  if (!script) return undefined;
  for (const flag of flags) {
    const match = new RegExp(`(?:^|\\s)${flag}(?:=|\\s+)(['"]?)([^\\s'"&|;]+)\\1`).exec(script);
    if (match) return match[2];
  }
  return undefined;
}

/** A string property in a JS/TS config file, e.g. `outDir: 'out'`. */
export function configString(text: string, key: string): string | undefined {
  return new RegExp(`['"]?\\b${key}['"]?\\s*:\\s*(['"\`])([^'"\`]+)\\1`).exec(text)?.[2];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSONC as JSON: comments and trailing commas removed, strings left alone. */
export function stripJsonComments(text: string): string {
  return text
    .replace(/("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_match, string) => string ?? '')
    .replace(/("(?:\\.|[^"\\])*")|,(\s*[}\]])/g, (_match, string, close) => string ?? close);
}
