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
 * Starts a watchdog in the step's process group, then replaces itself (same pid, still the
 * group's leader) with the shell that runs the step, without the watchdog's descriptor. The
 * watchdog waits on fd 3, a socket whose other end only the agent holds: when the agent dies,
 * however it dies, the kernel closes that end, `read` returns, and the watchdog kills its own
 * group. `kill 0` names the caller's own group, which cannot have been reused while the
 * watchdog is in it. The watchdog ignores the SIGTERM that stopping a step sends the group, so
 * that an agent that dies before its SIGKILL 2 s later still leaves nothing running; it is
 * forked ignoring it already, as a trap set inside it could come too late.
 */
const LAUNCHER = [
  'trap "" TERM INT HUP',
  '{ read -r line <&3; kill -s KILL 0; } </dev/null >/dev/null 2>&1 &',
  'trap - TERM INT HUP',
  'exec /bin/sh -c "$1" 3<&-',
].join('\n');

/**
 * Runs `command` through a shell as the leader of a new process group, so that stopping it
 * also stops everything it started. The group is killed when the shell exits too: a step may
 * not leave processes behind that outlive it. Nor may it outlive the agent (see LAUNCHER).
 */
export function runInProcessGroup(command: string, options: RunOptions): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', LAUNCHER, 'sparki-step', command], {
      cwd: options.cwd,
      env: asProcessEnv(options.env),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    const lifeline = child.stdio[3]!;
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

    stdout.setEncoding('utf8').on('data', options.onStdout);
    stderr.setEncoding('utf8').on('data', options.onStderr);
    let exitCode = -1;
    let pipesTimer: ReturnType<typeof setTimeout> | undefined;
    child.on('exit', (code, signal) => {
      exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
      // Background processes still hold the pipes open; the step is over, and so are they.
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
      lifeline.destroy();
      // One that left the group (setsid) would keep the pipes, and the step, open forever.
      pipesTimer = setTimeout(() => {
        stdout.destroy();
        stderr.destroy();
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
