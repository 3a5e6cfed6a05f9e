import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from '@upstash/redis';
import { sql } from 'drizzle-orm';
import { unstable_dev } from 'wrangler';
import { fileSystemTree } from '../cli/fs-tree';
import { detect } from '../core/detect';
import { redact } from '../core/redact';
import { createDb } from '../db/client';
import { postgresTarget, startNeonProxy } from '../dev/neon-proxy';
import { startPostgres } from '../dev/postgres';
import { startRedisBridge } from '../dev/redis-bridge';
import { startRedis } from '../dev/redis-server';
import { benchBuildLog } from './build-log';
import { benchDashboardShell } from './dashboard-shell';
import { benchDependencyCache } from './dependency-cache';

async function measure(name: string, runs: number, op: () => unknown) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await op();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  console.log(
    `${name.padEnd(44)} n=${String(runs).padStart(5)}  p50 ${at(0.5).toFixed(3)} ms  p95 ${at(0.95).toFixed(3)} ms`,
  );
}

// The dashboard's production build: what its shell weighs (docs/dashboard/hosting.md).
await benchDashboardShell();

const postgres = await startPostgres();
const proxy = await startNeonProxy({ allowedTargets: [postgresTarget(postgres.url)] });
const { db, pool } = createDb(postgres.url, { wsProxy: proxy.wsProxy });
await measure(`postgres select 1 via Neon proxy (${postgres.source})`, 300, () =>
  db.execute(sql`select 1`),
);
await pool.end();
await proxy.close();
await postgres.stop();

const redisServer = await startRedis({ dataDir: '.sparki/bench-redis' });
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
} else {
  console.log('redis: skipped (no REDIS_URL and no redis-server on PATH)');
}

const entry = {
  event: 'login_failed',
  email: 'ada@example.com',
  headers: { authorization: 'Bearer abc', accept: '*/*' },
  message: 'connect postgres://u:p@db:5432 failed',
};
await measure('redact one structured log entry', 20_000, () => redact(entry));

// Zero-config detection reads a checkout from disk, one fixture repository after another.
const fixtures = 'test/fixtures/detect';
const repositories = (await readdir(fixtures)).filter((name) => name !== 'invalid-sparki-json');
let repository = 0;
await measure(`sparki detect, per repository (${repositories.length} fixtures)`, 2_000, async () =>
  detect(await fileSystemTree(join(fixtures, repositories[repository++ % repositories.length]!))),
);

// The password KDF runs inside workerd, where it is charged against the Worker's CPU budget.
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

// A build's dependency install, the project's first build against the next ones (npm's cache
// kept by the runner). Needs the npm registry.
await benchDependencyCache();

// The dashboard's build page in headless Chromium: a 100,000-line log, and live lines from the
// platform to the page. Needs the built dashboard (npm run web:build) and Chromium.
await benchBuildLog();
