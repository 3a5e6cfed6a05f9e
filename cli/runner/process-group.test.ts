import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcessGroup } from './process-group';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sparki-group-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function alive(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return status !== '' && !/^\d+ \(.*\) Z/.test(status);
}

/**
 * Whether the process is gone within a generous deadline. A process killed with SIGKILL closes
 * its pipes (which resolves the step) a moment before it is a zombie: a single look may be
 * too early.
 */
async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (await alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

function run(command: string, timeoutMs = 10_000, signal = new AbortController().signal) {
  let stdout = '';
  let stderr = '';
  const outcome = runInProcessGroup(command, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OUT: dir },
    timeoutMs,
    signal,
    onStdout: (chunk) => {
      stdout += chunk;
    },
    onStderr: (chunk) => {
      stderr += chunk;
    },
  });
  return { outcome, output: () => ({ stdout, stderr }) };
}

const pid = async (name: string) => Number(await readFile(join(dir, name), 'utf8'));

/** Runs $STEP like the agent does, and starts stopping it when it prints "go". */
const DRIVER = `
import { runInProcessGroup } from ${JSON.stringify(new URL('./process-group.ts', import.meta.url).href)};
const controller = new AbortController();
void runInProcessGroup(process.env.STEP, {
  cwd: process.env.OUT,
  env: { PATH: process.env.PATH, OUT: process.env.OUT },
  timeoutMs: 60_000,
  signal: controller.signal,
  onStdout(chunk) {
    if (!chunk.includes('go')) return;
    controller.abort('stop');
    console.log('stopping');
  },
  onStderr() {},
});
`;

describe('runInProcessGroup', () => {
  it('reports the exit code and both streams, with only the given environment', async () => {
    const step = run('echo "out $OUT"; echo err >&2; echo "home=$HOME."; exit 3');
    expect(await step.outcome).toEqual({ kind: 'exited', exitCode: 3 });
    expect(step.output()).toEqual({ stdout: `out ${dir}\nhome=.\n`, stderr: 'err\n' });
  });

  it('kills processes a finished step left running in the background', async () => {
    const step = run('sleep 60 & echo $! > "$OUT/left"; echo done');
    expect(await step.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(await gone(await pid('left'))).toBe(true);
  });

  it('stops the whole group at the time limit', async () => {
    const step = run('sleep 60 & echo $! > "$OUT/slow"; wait', 500);
    expect(await step.outcome).toEqual({ kind: 'timed_out' });
    expect(await gone(await pid('slow'))).toBe(true);
  });

  it('stops the whole group when aborted, ignoring SIGTERM traps with SIGKILL', async () => {
    const controller = new AbortController();
    const step = run(
      `trap '' TERM; sh -c 'trap "" TERM; sleep 60' & echo $! > "$OUT/stubborn"; echo go; wait`,
      60_000,
      controller.signal,
    );
    while (!step.output().stdout.includes('go')) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    controller.abort('cancel');
    expect(await step.outcome).toEqual({ kind: 'aborted', reason: 'cancel' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await gone(await pid('stubborn'))).toBe(true);
  });

  it('does not hang on a process that escaped the group holding the output open', async () => {
    const step = run('setsid sleep 30 & echo $! > "$OUT/escaped"; sleep 0.3; echo bye');
    const started = Date.now();
    expect(await step.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(Date.now() - started).toBeLessThan(10_000);
    process.kill(await pid('escaped'), 'SIGKILL');
  }, 15_000);

  it('dies with the process running it, even one killed while it stops the step', async () => {
    const driver = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', DRIVER],
      {
        env: {
          ...process.env,
          OUT: dir,
          STEP: `echo $$ > "$OUT/leader"; trap '' TERM; sh -c 'trap "" TERM; sleep 300' & echo $! > "$OUT/orphan"; echo go; wait`,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    driver.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    while (!output.includes('stopping')) await new Promise((r) => setTimeout(r, 20));
    // SIGTERM went to the group; the driver's SIGKILL, 2 s later, never will.
    driver.kill('SIGKILL');
    try {
      expect(await gone(await pid('orphan'))).toBe(true);
    } finally {
      // Without the guarantee the step would run on: end it here.
      try {
        process.kill(-(await pid('leader')), 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
    }
  });
});
