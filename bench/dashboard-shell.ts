import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '..');
/** Issue 12's budget for the dashboard shell: the JavaScript a first visit loads before any route's own chunk. */
export const SHELL_JS_BUDGET_GZIP_BYTES = 200 * 1024;

export interface ShellFile {
  file: string;
  kind: 'js' | 'css';
  bytes: number;
  gzip: number;
  brotli: number;
}

/**
 * The files web/dist/index.html loads by itself: its module scripts and the chunks it preloads
 * (`<link rel="modulepreload">`), and its stylesheets. Chunks that routes import lazily
 * (`lazyRouteComponent`) are not in it: they load when a screen that needs them opens.
 */
export async function shellFiles(dist: string): Promise<ShellFile[]> {
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  const js = [
    ...html.matchAll(/<script\b[^>]*\btype="module"[^>]*\bsrc="([^"]+)"/g),
    ...html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g),
  ].map((match) => match[1]!);
  const css = [...html.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/g)].map(
    (match) => match[1]!,
  );
  const files: ShellFile[] = [];
  for (const [kind, paths] of [
    ['js', js],
    ['css', css],
  ] as const) {
    for (const path of new Set(paths)) {
      const content = await readFile(join(dist, path.replace(/^\//, '')));
      files.push({
        file: path,
        kind,
        bytes: content.length,
        gzip: gzipSync(content, { level: 9 }).length,
        brotli: brotliCompressSync(content).length,
      });
    }
  }
  return files;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/**
 * Builds the dashboard for production (into a temporary folder: web/dist is left alone) and
 * prints what its shell weighs against the budget. A figure, not a gate.
 */
export async function benchDashboardShell() {
  const { build } = await import('vite');
  const outDir = await mkdtemp(join(tmpdir(), 'sparki-shell-'));
  try {
    await build({
      configFile: join(ROOT, 'web', 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, sourcemap: false },
    });
    const files = await shellFiles(outDir);
    for (const file of files) {
      console.log(
        `dashboard shell ${file.kind.padEnd(3)} ${file.file.padEnd(34)} ${kb(file.bytes).padStart(9)}  gzip ${kb(file.gzip).padStart(8)}  brotli ${kb(file.brotli).padStart(8)}`,
      );
    }
    const js = files.filter((file) => file.kind === 'js');
    const gzip = js.reduce((sum, file) => sum + file.gzip, 0);
    const brotli = js.reduce((sum, file) => sum + file.brotli, 0);
    console.log(
      `dashboard shell JavaScript (${js.length} file${js.length === 1 ? '' : 's'})`.padEnd(44) +
        ` gzip ${kb(gzip)} of ${kb(SHELL_JS_BUDGET_GZIP_BYTES)} budget (${((gzip / SHELL_JS_BUDGET_GZIP_BYTES) * 100).toFixed(0)} %), brotli ${kb(brotli)}` +
        (gzip > SHELL_JS_BUDGET_GZIP_BYTES ? '  OVER BUDGET' : ''),
    );
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

// `tsx bench/dashboard-shell.ts` runs this figure alone.
if (import.meta.filename === process.argv[1]) await benchDashboardShell();
