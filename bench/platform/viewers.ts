import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Report } from '../report';
import { CrowdProcess, type CrowdResult, inBatches, probeLine } from './log-viewers';
import type { BenchStack } from './stack';

/** The pace of issue 14's goal: 1,000 lines/s, printed 50 lines every 50 ms. */
const TICK_MS = 50;
const PER_TICK = 50;
const SECONDS = Number(process.env.BENCH_LOG_SECONDS ?? 5);
const LINES = (SECONDS * 1000 * PER_TICK) / TICK_MS;
const JOINING_AT_ONCE = 10;

/** A build that waits for `go` to exist, prints the probe lines at the pace above, and ends. */
const buildJs = (go: string) => `
const fs = require('node:fs');
const probeLine = ${probeLine.toString()};
const wallNow = () => performance.timeOrigin + performance.now();
const waiting = setInterval(() => {
  if (!fs.existsSync(${JSON.stringify(go)})) return;
  clearInterval(waiting);
  let sent = 0;
  const timer = setInterval(() => {
    let out = '';
    for (let i = 0; i < ${PER_TICK} && sent < ${LINES}; i++) out += probeLine(++sent, wallNow()) + '\\n';
    process.stdout.write(out);
    if (sent < ${LINES}) return;
    clearInterval(timer);
    fs.mkdirSync('dist', { recursive: true });
    fs.writeFileSync('dist/index.html', 'ok');
  }, ${TICK_MS});
}, 20);
`;

interface Seen extends CrowdResult {
  joinMs: number;
  presenceFrames: number;
}

/** The same crowd on a bare `ws` server in a process of its own. */
async function rawBroadcast(viewers: number): Promise<Seen> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'raw-broadcast-server.ts')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const crowd = new CrowdProcess(LINES);
  try {
    const port = await new Promise<string>((resolve) =>
      child.stdout!.once('data', (chunk) => resolve(String(chunk).trim())),
    );
    const joining = performance.now();
    await inBatches([...Array(viewers).keys()], JOINING_AT_ONCE, () =>
      crowd.join(`ws://127.0.0.1:${port}/`),
    );
    const joinMs = performance.now() - joining;
    await fetch(
      `http://127.0.0.1:${port}/go?lines=${LINES}&tick_ms=${TICK_MS}&per_tick=${PER_TICK}`,
      {
        method: 'POST',
      },
    );
    return { ...(await crowd.ended(SECONDS * 1000 + 120_000)), joinMs, presenceFrames: 0 };
  } finally {
    child.kill();
    crowd.close();
  }
}

/** N viewers of one build on the platform, each with its own ticket, as the dashboard opens them. */
async function platform(stack: BenchStack, viewers: number): Promise<Seen> {
  const go = join(stack.stateDir, `go-${viewers}`);
  const project = await stack.newProject(`viewers-${viewers}`, {
    'package.json': JSON.stringify({
      name: 'log',
      private: true,
      scripts: { build: 'node build.js' },
    }),
    'build.js': buildJs(go),
  });
  const build = await stack.api<{ id: string }>('POST', `/api/projects/${project.id}/builds`, {});
  await stack.jobStart(build.id);
  const crowd = new CrowdProcess(LINES);
  try {
    return await watchBuild(stack, { buildId: build.id, go, viewers }, crowd);
  } finally {
    crowd.close();
  }
}

/** `viewers` join the build's live log, then `go` lets the build print its lines. */
async function watchBuild(
  stack: BenchStack,
  { buildId, go, viewers }: { buildId: string; go: string; viewers: number },
  crowd: CrowdProcess,
): Promise<Seen> {
  const live = `${stack.base.replace('http', 'ws')}/api/builds/${buildId}/logs/live?lines=packed`;
  const joining = performance.now();
  await inBatches([...Array(viewers).keys()], JOINING_AT_ONCE, async () => {
    const { ticket } = await stack.api<{ ticket: string }>('POST', '/api/ws-tickets', {
      purpose: 'build-logs',
      resource_id: buildId,
    });
    await crowd.join(live, ['sparki.v1', `ticket.${ticket}`]);
  });
  const joinMs = performance.now() - joining;
  // Presence sent for the joins: what reaches the viewers until the stream starts.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const presenceFrames = await crowd.presenceFrames();
  await writeFile(go, '');
  const result = await crowd.ended(SECONDS * 1000 + 300_000);
  await stack.waitFor(`build ${buildId} to end`, async () => {
    const { status } = await stack.api<{ status: string }>('GET', `/api/builds/${buildId}`);
    return !['queued', 'planned', 'running'].includes(status);
  });
  await rm(go, { force: true });
  return { ...result, joinMs, presenceFrames };
}

/** (b) one log line → N live viewers, against a raw broadcast to the same N. */
export async function benchViewers(stack: BenchStack, report: Report, counts = [10, 100, 1000]) {
  for (const viewers of counts) {
    const raw = await rawBroadcast(viewers);
    const ours = await platform(stack, viewers);
    const note = `${viewers} viewers, ${LINES} lines at ${(PER_TICK * 1000) / TICK_MS}/s`;
    const rawBaseline = (value: number) => ({ name: 'raw ws broadcast', value });
    report.add(
      'b',
      `log line → ${viewers} viewers, p50`,
      'ms',
      ours.p50,
      rawBaseline(raw.p50),
      note,
    );
    report.add('b', `log line → ${viewers} viewers, p99`, 'ms', ours.p99, rawBaseline(raw.p99));
    report.add(
      'b',
      `log lines lost, ${viewers} viewers`,
      'lines',
      ours.lost,
      rawBaseline(raw.lost),
    );
    report.add(
      'b',
      `joining ${viewers} viewers`,
      'ms',
      ours.joinMs,
      rawBaseline(raw.joinMs),
      'ticket + socket each, 10 at a time',
    );
    report.add('b', `presence frames sent for ${viewers} joins`, 'frames', ours.presenceFrames, {
      name: 'one per viewer',
      value: viewers,
    });
  }
}
