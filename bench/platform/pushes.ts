import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { Report } from '../report';
import { percentile, summarize } from '../stats';
import type { BenchStack } from './stack';

/** A static site whose build is one small command, so a push's time is the platform's. */
const SITE = {
  'package.json': JSON.stringify({
    name: 'site',
    private: true,
    scripts: { build: 'node build.js' },
  }),
  'build.js': `const fs = require('node:fs');
fs.mkdirSync('dist', { recursive: true });
fs.copyFileSync('page.html', 'dist/index.html');`,
  'page.html': '<h1>v0</h1>\n',
};

const END_STATES = ['live', 'failed', 'rolled_back', 'canceled'];

/**
 * The (a) baseline: a loopback HTTP request whose handler commits one Postgres transaction
 * (an insert, through the same Neon-compatible proxy the Worker uses), the least a webhook that
 * records something durable can cost.
 */
async function loopbackCommit(stack: BenchStack, runs: number): Promise<number[]> {
  return stack.db(async (db) => {
    await db.execute(
      sql`create table if not exists bench_commits (id bigserial primary key, at timestamptz not null default now())`,
    );
    const server = createServer((_request, response) => {
      db.transaction((tx) => tx.execute(sql`insert into bench_commits default values`)).then(
        () => response.end('ok'),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const samples: number[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        await (await fetch(url, { method: 'POST', body: '{}' })).text();
        samples.push(performance.now() - started);
      }
    } finally {
      server.closeAllConnections();
      server.close();
    }
    return samples;
  });
}

/**
 * The (d) baseline: what deploying the same commit by hand costs besides its build command, a
 * fresh `git clone` of the repository and a copy of its output to where it is served from.
 */
async function cloneAndCopy(repo: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'sparki-bench-clone-'));
  try {
    const started = performance.now();
    execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${repo}`, join(dir, 'src')]);
    const cloned = performance.now();
    // The build command is the build's own time, left out on both sides.
    execFileSync('node', ['build.js'], { cwd: join(dir, 'src') });
    const copying = performance.now();
    await cp(join(dir, 'src', 'dist'), join(dir, 'served'), { recursive: true });
    return cloned - started + (performance.now() - copying);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * (a) webhook accepted → the runner has the job, and (d) push → live minus the build's own
 * commands, from the same pushes: each a new commit on main, delivered as GitHub would, and
 * followed to its production deployment before the next one (so each starts from an idle stack).
 */
export async function benchPushes(
  stack: BenchStack,
  report: Report,
  options: { pickup: boolean; live: boolean; pushes: number },
) {
  const project = await stack.newProject('pushes', SITE);
  const pickup: number[] = [];
  const handler: number[] = [];
  const overhead: number[] = [];
  const totals: number[] = [];
  const own: number[] = [];
  const byHand: number[] = [];
  for (let i = 1; i <= options.pushes; i++) {
    const sha = await project.commit({ 'page.html': `<h1>v${i}</h1>\n` }, `v${i}`);
    const sentWall = Date.now();
    const { buildId, sentAt, answeredAt } = await project.push(sha);
    handler.push(answeredAt - sentAt);
    pickup.push((await stack.jobStart(buildId)) - sentAt);
    const deployment = await stack.waitFor(`build ${buildId} to go live`, async () => {
      const { deployments } = await stack.api<{
        deployments: { build_id: string; status: string; finished_at: string | null }[];
      }>('GET', `/api/projects/${project.id}/deployments?limit=5`);
      const found = deployments.find((entry) => entry.build_id === buildId);
      return found && END_STATES.includes(found.status) && found;
    });
    if (deployment.status !== 'live') throw new Error(`build ${buildId}: ${deployment.status}`);
    const total = Date.parse(deployment.finished_at!) - sentWall;
    const steps = await stack.db((db) =>
      db.execute<{ ms: string | null }>(
        sql`select sum(extract(epoch from (finished_at - started_at)) * 1000) as ms from build_steps where build_id = ${buildId}`,
      ),
    );
    const commands = Number(steps.rows[0]?.ms ?? 0);
    totals.push(total);
    own.push(commands);
    overhead.push(total - commands);
    if (options.live && i <= 10) byHand.push(await cloneAndCopy(project.repo));
  }

  if (options.pickup) {
    const base = summarize(await loopbackCommit(stack, Math.max(options.pushes, 100)));
    const got = summarize(pickup);
    const note = `${got.n} pushes`;
    const baseline = (value: number) => ({ name: 'loopback HTTP + 1 Postgres commit', value });
    report.add(
      'a',
      'webhook sent → runner has the job, p50',
      'ms',
      got.p50,
      baseline(base.p50),
      note,
    );
    report.add(
      'a',
      'webhook sent → runner has the job, p95',
      'ms',
      got.p95,
      baseline(base.p95),
      note,
    );
    report.add(
      'a',
      'webhook handler (sent → answered), p50',
      'ms',
      percentile(handler, 0.5),
      baseline(base.p50),
    );
  }
  if (options.live) {
    const hand = summarize(byHand);
    const note = `${overhead.length} pushes; build commands p50 ${percentile(own, 0.5).toFixed(0)} ms, total p50 ${percentile(totals, 0.5).toFixed(0)} ms`;
    const baseline = { name: 'git clone + copy of the output by hand', value: hand.p50 };
    report.add(
      'd',
      'push → live, minus the build commands, p50',
      'ms',
      percentile(overhead, 0.5),
      baseline,
      note,
    );
    report.add(
      'd',
      'push → live, minus the build commands, p95',
      'ms',
      percentile(overhead, 0.95),
      {
        ...baseline,
        value: hand.p95,
      },
    );
  }
}
