import { type ChildProcessWithoutNullStreams, type SpawnOptions, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The `sparki` executable of this checkout (TypeScript run through tsx). For tests. */
export const SPARKI_BIN = join(import.meta.dirname, 'bin.mjs');

export interface SparkiRun {
  child: ChildProcessWithoutNullStreams;
  /** What it has printed so far. */
  output(): { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** Starts the real `sparki` as a separate process, collecting what it prints. */
export function startSparki(args: string[], options: SpawnOptions = {}): SparkiRun {
  const child = spawn(process.execPath, [SPARKI_BIN, ...args], {
    ...options,
    stdio: 'pipe',
  }) as ChildProcessWithoutNullStreams;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Runs `sparki` to its end: its exit code and output. */
export async function runSparki(args: string[], options: SpawnOptions = {}) {
  const run = startSparki(args, options);
  const code = await run.exited;
  return { code, ...run.output() };
}

/**
 * An environment for a `sparki` under test: its own config directory, as CI runs it, with no
 * platform or token inherited from the shell running the tests.
 */
export function isolatedEnv(configHome: string): NodeJS.ProcessEnv {
  const { SPARKI_URL: _url, SPARKI_TOKEN: _token, ...inherited } = process.env;
  return { ...inherited, XDG_CONFIG_HOME: configHome, CI: 'true' } as NodeJS.ProcessEnv;
}
