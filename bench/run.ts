import { parseArgs } from 'node:util';
import { Redis } from '@upstash/redis';
import { sql } from 'drizzle-orm';
import { unstable_dev } from 'wrangler';
import { redact } from '../core/redact';
import { createDb } from '../db/client';
import { postgresTarget, startNeonProxy } from '../dev/neon-proxy';
import { startPostgres } from '../dev/postgres';
import { startRedisBridge } from '../dev/redis-bridge';
import { startRedis } from '../dev/redis-server';
import { benchBuildLog } from './build-log';
import { benchDashboardShell } from './dashboard-shell';
import { benchDependencyCache } from './dependency-cache';
import { benchDetect } from './detect';
import { benchApiRead } from './platform/api-read';
import { benchPushes } from './platform/pushes';
import { benchRedeploy } from './platform/redeploy';
import { startBenchStack } from './platform/stack';
import { benchViewers } from './platform/viewers';
import { DOCS_FILE, RESULTS_FILE, Report } from './report';
import { formatMs, summarize } from './stats';

/**
 * `npm run bench [-- --only a,b,…]`: figures, never a gate. Sections a–f are issue 14's (each
 * beside a baseline measured in the same run, written to bench/results/latest.json and the table
 * in docs/benchmarks.md); the others print only.
 */
const SECTIONS = {
  shell: "the dashboard shell's weight",
  postgres: 'postgres round trip through the Neon proxy',
  redis: 'redis through the Upstash REST bridge',
  redact: 'redacting a log entry',
  kdf: 'the password KDF in workerd',
  a: 'webhook sent → runner has the job',
  b: 'one log line → N live viewers',
  c: 'authenticated API read under load',
  d: 'push → live platform overhead',
  e: 'sparki detect',
  f: 'bytes uploaded by a rebuild of an unchanged commit',
  cache: 'dependency install with and without the cache (needs the npm registry)',
  buildlog: 'the build page in Chromium (needs web/dist and Chromium)',
} as const;
type Section = keyof typeof SECTIONS;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    pushes: { type: 'string', default: process.env.BENCH_PUSHES ?? '40' },
    viewers: { type: 'string', default: '10,100,1000' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('npm run bench -- [--only a,b,...] [--pushes 40] [--viewers 10,100,1000]\n');
  for (const [id, what] of Object.entries(SECTIONS)) console.log(`  ${id.padEnd(9)} ${what}`);
  process.exit(0);
}
const only = values.only?.split(',').map((id) => id.trim());
for (const id of only ?? []) {
  if (!(id in SECTIONS))
    throw new Error(`unknown section ${id}: one of ${Object.keys(SECTIONS).join(', ')}`);
}
const runs = (id: Section) => !only || only.includes(id);

async function measure(name: string, count: number, op: () => unknown) {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await op();
    samples.push(performance.now() - started);
  }
  const { p50, p95 } = summarize(samples);
  console.log(
    `${name.padEnd(44)} n=${String(count).padStart(5)}  p50 ${formatMs(p50)}  p95 ${formatMs(p95)}`,
  );
}

const report = new Report();

// The dashboard's production build: what its shell weighs (docs/dashboard/hosting.md).
if (runs('shell')) await benchDashboardShell();

if (runs('postgres')) {
  const postgres = await startPostgres();
  const proxy = await startNeonProxy({ allowedTargets: [postgresTarget(postgres.url)] });
  const { db, pool } = createDb(postgres.url, { wsProxy: proxy.wsProxy });
  await measure(`postgres select 1 via Neon proxy (${postgres.source})`, 300, () =>
    db.execute(sql`select 1`),
  );
  await pool.end();
  await proxy.close();
  await postgres.stop();
}

const redisServer = runs('redis')
  ? await startRedis({ dataDir: '.sparki/bench-redis' })
  : undefined;
if (redisServer) {
  const bridge = await startRedisBridge({ redisUrl: redisServer.url, token: 'bench' });
  const redis = new Redis({ url: bridge.url, token: 'bench', enableTelemetry: false });
  await measure('redis set+get via Upstash REST bridge', 500, async () => {
    await redis.set('bench:key', 'value');
    await redis.get('bench:key');
  });
  await redis.del('bench:key');
  await bridge.close();
  await redisServer.stop();
} else if (runs('redis')) {
  console.log('redis: skipped (no REDIS_URL and no redis-server on PATH)');
}

const entry = {
  event: 'login_failed',
  email: 'ada@example.com',
  headers: { authorization: 'Bearer abc', accept: '*/*' },
  message: 'connect postgres://u:p@db:5432 failed',
};
if (runs('redact')) await measure('redact one structured log entry', 20_000, () => redact(entry));

// The password KDF runs inside workerd, where it is charged against the Worker's CPU budget.
if (runs('kdf')) {
  const passwordWorker = await unstable_dev('bench/password/worker.ts', {
    config: 'bench/password/wrangler.toml',
    experimental: { disableExperimentalWarning: true },
    logLevel: 'error',
  });
  const kdf = (query: string) => async () => (await passwordWorker.fetch(query)).text();
  // The Worker's own parameters, read back from the PHC string it produces.
  const current = /m=(\d+),t=(\d+)/.exec(await kdf('/')())!;
  await measure('workerd round trip without work (baseline)', 50, kdf('/noop'));
  for (const [m, t] of [
    [current[1], current[2]],
    [47_104, 1],
    [65_536, 3],
  ]) {
    await measure(`argon2id hash in workerd m=${m} KiB t=${t} p=1`, 20, kdf(`/?m=${m}&t=${t}`));
  }
  await passwordWorker.stop();
}

// Issue 14's figures. (e) needs no stack; the others share one.
if (runs('e')) await benchDetect(report);
if ((['a', 'b', 'c', 'd', 'f'] as const).some(runs)) {
  const stack = await startBenchStack();
  try {
    if (runs('a') || runs('d')) {
      await benchPushes(stack, report, {
        pickup: runs('a'),
        live: runs('d'),
        pushes: runs('a') ? Number(values.pushes) : 10,
      });
    }
    if (runs('f')) await benchRedeploy(stack, report);
    if (runs('b')) await benchViewers(stack, report, values.viewers.split(',').map(Number));
    // Last: 100 connections at once may leave the stack short of database connections.
    if (runs('c')) await benchApiRead(stack, report);
  } finally {
    await stack.stop();
  }
}
if (report.figures.length > 0) {
  await report.save();
  console.log(`figures written to ${RESULTS_FILE} and ${DOCS_FILE}`);
}

// A build's dependency install, the project's first build against the next ones (npm's cache
// kept by the runner). Needs the npm registry.
if (runs('cache')) await benchDependencyCache();

// The dashboard's build page in headless Chromium: a 100,000-line log, and live lines from the
// platform to the page. Needs the built dashboard (npm run web:build) and Chromium.
if (runs('buildlog')) await benchBuildLog();
