import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';
import { VERSION } from './version';

/**
 * `npm run pack:cli`: the CLI as a package a runner machine installs without this repository.
 * esbuild bundles cli/main.ts with core/ and every runtime dependency into one ESM file, so the
 * package has no dependencies: `npm install -g ./sparki-<version>.tgz` needs no registry.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PACK_DIR = join(REPO, 'dist', 'cli');
const PACKAGE_DIR = join(PACK_DIR, 'package');
const BUNDLE = 'sparki.mjs';
const LICENSES = 'THIRD-PARTY-LICENSES.txt';

// The dependencies are CommonJS in part (ws, commander): inside an ES module their require()
// calls of Node's built-ins need a real require.
const BANNER = [
  '#!/usr/bin/env node',
  "import { createRequire as __sparkiCreateRequire } from 'node:module';",
  'const require = __sparkiCreateRequire(import.meta.url);',
].join('\n');

/**
 * Ink connects to React DevTools only with DEV=true and react-devtools-core installed; the
 * package ships neither, so its devtools module is left out (an empty module in its place).
 */
const noInkDevtools: Plugin = {
  name: 'no-ink-devtools',
  setup(builder) {
    builder.onResolve({ filter: /^\.\/devtools\.js$/ }, (args) =>
      /node_modules\/ink\//.test(args.importer)
        ? { path: 'ink-devtools', namespace: 'sparki-empty' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'sparki-empty' }, () => ({ contents: 'export {};' }));
  },
};

/** The packages the bundle took code from, by their directory under node_modules. */
function bundledPackages(metafile: Metafile): string[] {
  const packages = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.add(match[1]!);
  }
  return [...packages].sort();
}

/** Each bundled package's licence, as its licence asks to travel with copies of the code. */
async function licenseTexts(packages: string[]): Promise<string> {
  const sections = await Promise.all(
    packages.map(async (name) => {
      const dir = join(REPO, 'node_modules', name);
      const { version, license } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
      const file = (await readdir(dir)).find((entry) => /^(licen[cs]e|copying)/i.test(entry));
      const text = file ? await readFile(join(dir, file), 'utf8') : `License: ${license}\n`;
      return `${name}@${version}\n\n${text.trim()}\n`;
    }),
  );
  return sections.join(`\n${'-'.repeat(72)}\n\n`);
}

export async function packCli(): Promise<string> {
  await rm(PACK_DIR, { recursive: true, force: true });
  await mkdir(PACKAGE_DIR, { recursive: true });
  const { metafile } = await build({
    entryPoints: [join(REPO, 'cli', 'main.ts')],
    outfile: join(PACKAGE_DIR, BUNDLE),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    banner: { js: BANNER },
    // ws's optional native speed-ups: it falls back to JavaScript when they are absent.
    external: ['bufferutil', 'utf-8-validate'],
    plugins: [noInkDevtools],
    metafile: true,
    logLevel: 'warning',
  });
  await writeFile(join(PACKAGE_DIR, LICENSES), await licenseTexts(bundledPackages(metafile)));
  const manifest = {
    name: 'sparki',
    version: VERSION,
    description:
      'Sparki CLI: project commands, zero-configuration detection and the runner agent that runs builds',
    type: 'module',
    bin: { sparki: BUNDLE },
    files: [BUNDLE, LICENSES],
    engines: { node: '>=22' },
  };
  await writeFile(join(PACKAGE_DIR, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const { stdout } = await promisify(execFile)(
    'npm',
    ['pack', PACKAGE_DIR, '--pack-destination', PACK_DIR, '--json', '--loglevel=error'],
    { cwd: PACK_DIR },
  );
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  return join(PACK_DIR, packed!.filename);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${await packCli()}\n`);
}
