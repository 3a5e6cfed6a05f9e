import { type ChildProcess, spawn } from 'node:child_process';
import getPort from 'get-port';

export const STARTUP_TIMEOUT_MS = 150_000;

export interface RunningStack {
  child: ChildProcess;
  output: () => string;
  postgresUrl: string;
  ports: number[];
}

// wrangler's generated types declare the Worker's secrets on process.env; a child's env need not have them.
export type ChildEnv = Record<string, string | undefined>;

/** `npm run dev` as a real child process, resolved once it prints its URL. */
export function startStack(stateDir: string, port: number, env: ChildEnv): Promise<RunningStack> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/start.ts'], {
    env: { ...env, SPARKI_STATE_DIR: stateDir, PORT: String(port) } as unknown as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stack did not start:\n${output}`)),
      STARTUP_TIMEOUT_MS,
    );
    child.once('exit', (code) => reject(new Error(`stack exited (${code}):\n${output}`)));
    const poll = setInterval(() => {
      if (!output.includes('Sparki is running at')) return;
      clearInterval(poll);
      clearTimeout(timer);
      const postgresUrl = /embedded PostgreSQL at (\S+),/.exec(output)?.[1] ?? '';
      const ports = [...output.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
      resolve({ child, output: () => output, postgresUrl, ports: [port, ...ports] });
    }, 200);
  });
}

/**
 * `startStack` on a free port. Test files start stacks in parallel, so another one may bind the
 * port between the pick and wrangler's listen: a start lost that way is tried on another port.
 */
export async function startStackOnFreePort(
  stateDir: string,
  env: ChildEnv,
): Promise<RunningStack & { port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await getPort();
    try {
      return { ...(await startStack(stateDir, port, env)), port };
    } catch (error) {
      if (attempt === 3 || !String(error).includes('Address already in use')) throw error;
    }
  }
}

/** Ctrl-C, as a person would; resolves with the exit code. */
export function stopStack(stack: RunningStack): Promise<number | null> {
  return new Promise((resolve) => {
    if (stack.child.exitCode !== null) return resolve(stack.child.exitCode);
    stack.child.removeAllListeners('exit');
    stack.child.once('exit', (code) => resolve(code));
    stack.child.kill('SIGINT');
  });
}
