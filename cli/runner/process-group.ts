import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { asProcessEnv } from './environment';

/** Time a step gets between SIGTERM and SIGKILL when it is stopped. */
const KILL_GRACE_MS = 2_000;
/** Time the output of an exited step may take to drain from its pipes. */
const PIPE_GRACE_MS = 5_000;

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Aborting stops the command (cancel, drain, the build's own time limit). */
  signal: AbortSignal;
  onStdout(chunk: string): void;
  onStderr(chunk: string): void;
}

export type RunOutcome =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'timed_out' }
  | { kind: 'aborted'; reason: unknown };

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is gone already.
  }
}

/**
 * Runs `command` through a shell as the leader of a new process group, so that stopping it
 * also stops everything it started. The group is killed when the shell exits too: a step may
 * not leave processes behind that outlive it.
 */
export function runInProcessGroup(command: string, options: RunOptions): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: options.cwd,
      env: asProcessEnv(options.env),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    let stopped: RunOutcome | undefined;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const stop = (outcome: RunOutcome) => {
      if (stopped || pid === undefined) return;
      stopped = outcome;
      killGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => stop({ kind: 'timed_out' }), options.timeoutMs);
    const onAbort = () => stop({ kind: 'aborted', reason: options.signal.reason });
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8').on('data', options.onStdout);
    child.stderr.setEncoding('utf8').on('data', options.onStderr);
    let exitCode = -1;
    let pipesTimer: ReturnType<typeof setTimeout> | undefined;
    child.on('exit', (code, signal) => {
      exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
      // Background processes still hold the pipes open; the step is over, and so are they.
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
      // One that left the group (setsid) would keep the pipes, and the step, open forever.
      pipesTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_GRACE_MS);
    });
    child.on('error', (error) => {
      options.onStderr(`${error.message}\n`);
    });
    child.on('close', () => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      clearTimeout(pipesTimer);
      options.signal.removeEventListener('abort', onAbort);
      resolve(stopped ?? { kind: 'exited', exitCode });
    });
  });
}
