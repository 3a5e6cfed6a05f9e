import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import getPort from 'get-port';
import { migrateDatabase } from '../db/migrate';
import { REDIS_ABSENT_DEGRADES } from '../platform/health-checks';
import { writeEnvFile } from './env-file';
import { loadOrCreateMetricsToken, loadOrCreatePlatformKeys } from './keys';
import { postgresTarget, startNeonProxy } from './neon-proxy';
import { startPostgres } from './postgres';
import { startRedisBridge } from './redis-bridge';
import { startRedis } from './redis-server';

const STATE_DIR = process.env.SPARKI_STATE_DIR ?? join(process.cwd(), '.sparki');
const PORT = Number(process.env.PORT ?? 8787);
// The origin people reach the platform at: this Worker's own, unless something fronts it on another
// one (`wrangler pages dev`, the dashboard as a Pages project: test/node/pages-dev.test.ts).
const PUBLIC_URL = process.env.SPARKI_PUBLIC_URL || `http://localhost:${PORT}`;
// As wrangler.toml's `* * * * *`.
const CRON_INTERVAL_MS = 60_000;

type Stop = () => Promise<unknown>;
const stops: Stop[] = [];
let stopping = false;

function step(message: string) {
  process.stdout.write(`• ${message}\n`);
}

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  step('stopping…');
  for (const stop of stops.reverse()) {
    await stop().catch((err: unknown) => console.error(err));
  }
  process.exit(code);
}

async function startWrangler(
  vars: Record<string, string>,
  inspectorPort: number,
): Promise<ChildProcess> {
  // wrangler.toml is production's; development and every secret come from this file.
  const envFile = join(STATE_DIR, 'dev.vars');
  await writeEnvFile(envFile, { APP_ENV: 'development', HOSTING_DOMAIN: 'localhost', ...vars });
  const wranglerRoot = dirname(createRequire(import.meta.url).resolve('wrangler/package.json'));
  const wranglerBin = join(wranglerRoot, 'bin', 'wrangler.js');
  const args = [
    wranglerBin,
    'dev',
    '--port',
    String(PORT),
    '--ip',
    '127.0.0.1',
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    join(STATE_DIR, 'wrangler'),
    '--show-interactive-dev-session=false',
    '--env-file',
    envFile,
  ];
  // Its own process group, so Ctrl-C here can take workerd down with it.
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      // wrangler's local trace collector streams every span of every request (each fetch, each
      // socket) to a tail Worker that stores it on disk: about a third of the Worker process's
      // CPU per request (docs/benchmarks.md, (c)). Sparki traces itself (OTLP, build timelines).
      X_LOCAL_OBSERVABILITY: 'false',
    },
  });
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || !child.pid) return resolve();
        child.once('exit', () => resolve());
        process.kill(-child.pid, 'SIGTERM');
        setTimeout(
          () => child.pid && child.exitCode === null && process.kill(-child.pid, 'SIGKILL'),
          5_000,
        ).unref();
      }),
  );
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`wrangler dev exited (${code}); stopping the stack.`);
      void shutdown(code ?? 1);
    }
  });
  return child;
}

/**
 * Vite's dev server for the dashboard. The Worker forwards the platform host's dashboard paths
 * to it (workers/dashboard.ts), so the page, the API and its cookies share one origin; the hot
 * reload socket goes to Vite directly.
 */
async function startDashboardDevServer(): Promise<string> {
  // An empty assets directory satisfies wrangler.toml's [assets] until `npm run web:build`.
  await mkdir(join(process.cwd(), 'web', 'dist'), { recursive: true });
  const { createServer } = await import('vite');
  const port = await getPort();
  const server = await createServer({
    configFile: join(process.cwd(), 'web', 'vite.config.ts'),
    logLevel: 'warn',
    server: { host: '127.0.0.1', port, hmr: { host: 'localhost', clientPort: port } },
  });
  await server.listen();
  stops.push(() => server.close());
  return `http://127.0.0.1:${port}`;
}

async function waitForHealthy(url: string, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

/**
 * wrangler dev fires no cron triggers by itself; the outbox relay, the stale-deployment sweep
 * and the canary safety net depend on one. Its documented handler runs the `scheduled` export.
 */
function startCron(url: string) {
  const timer = setInterval(() => {
    fetch(`${url}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`).catch(() => {
      // wrangler dev reloading: the next minute's tick runs it.
    });
  }, CRON_INTERVAL_MS);
  stops.push(async () => clearInterval(timer));
}

/** Settings passed on to the Worker as they are set here: the OTLP exporter's, notice periods. */
function passedVars(env: NodeJS.ProcessEnv): Record<string, string> {
  const names = [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    'OTEL_EXPORTER_OTLP_HEADERS',
    'OTEL_SERVICE_NAME',
    'RUNNER_OFFLINE_NOTICE_SECONDS',
  ];
  return Object.fromEntries(names.map((name) => [name, env[name] ?? '']));
}

async function main() {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  await mkdir(STATE_DIR, { recursive: true });

  const postgres = await startPostgres({ dataDir: join(STATE_DIR, 'pgdata') });
  stops.push(() => postgres.stop());
  step(
    postgres.source === 'env'
      ? 'Postgres: DATABASE_URL'
      : `Postgres: embedded PostgreSQL at ${postgres.url}, data in ${join(STATE_DIR, 'pgdata')}`,
  );

  // Pooled, as Neon's pooler or Hyperdrive serve production: a request no longer pays for a
  // server process and an authentication of its own (docs/local-development.md).
  const proxy = await startNeonProxy({
    allowedTargets: [postgresTarget(postgres.url)],
    pool: true,
  });
  stops.push(() => proxy.close());
  step(`Neon-compatible WebSocket proxy on ${proxy.wsProxy}, pooling server connections`);

  await migrateDatabase(postgres.url, { wsProxy: proxy.wsProxy });
  step('migrations applied');

  const redis = await startRedis({ dataDir: join(STATE_DIR, 'redis') });
  let redisVars = { UPSTASH_REDIS_REST_URL: '', UPSTASH_REDIS_REST_TOKEN: '' };
  if (redis) {
    stops.push(() => redis.stop());
    const token = randomBytes(24).toString('hex');
    const bridge = await startRedisBridge({ redisUrl: redis.url, token });
    stops.push(() => bridge.close());
    redisVars = { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: token };
    step(
      `Redis: ${redis.source === 'env' ? 'REDIS_URL' : `redis-server at ${redis.url}`}, Upstash REST bridge on ${bridge.url}`,
    );
  }

  const keys = await loadOrCreatePlatformKeys(join(STATE_DIR, 'keys.json'));
  const metricsTokenFile = join(STATE_DIR, 'metrics-token');
  const metricsToken = await loadOrCreateMetricsToken(metricsTokenFile);
  // SPARKI_DASHBOARD=built serves web/dist as production does (`npm run web:build` first).
  const dashboard = process.env.SPARKI_DASHBOARD === 'built' ? '' : await startDashboardDevServer();
  step(
    dashboard ? `dashboard: Vite dev server on ${dashboard} (hot reload)` : 'dashboard: web/dist',
  );
  await startWrangler(
    {
      DASHBOARD_DEV_URL: dashboard,
      DATABASE_URL: postgres.url,
      NEON_WS_PROXY: proxy.wsProxy,
      // A server that asks SCRAM or nothing (DATABASE_URL, an older cluster) must be waited for.
      NEON_PIPELINE_CONNECT: postgres.cleartextPassword ? 'password' : '',
      PUBLIC_URL,
      // Custom-domain verification's resolver: a public one unless a local one is named.
      DNS_OVER_HTTPS_URL: process.env.DNS_OVER_HTTPS_URL ?? '',
      // Pipeline traces go to an OpenTelemetry collector when one is named (docs/observability.md).
      ...passedVars(process.env),
      ...redisVars,
      ...keys,
      METRICS_TOKEN: metricsToken,
    },
    await getPort({ port: 9229 }),
  );
  const url = `http://localhost:${PORT}`;
  await waitForHealthy(`${url}/healthz`);
  startCron(url);

  const banner = [
    '',
    `  Sparki is running at ${url} (the dashboard; sign up there)`,
    `  API reference: ${url}/api/docs · readiness: ${url}/readyz`,
    `  Mail is not sent: it is printed here, and kept at ${url}/dev/mailbox/<address>`,
    `  Prometheus metrics: ${url}/metrics with the bearer token in ${metricsTokenFile}`,
    redis
      ? ''
      : `  Redis absent (no REDIS_URL, no redis-server on PATH): ${REDIS_ABSENT_DEGRADES}.`,
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(
    `${banner.filter((line, i) => line || i === 0 || i === banner.length - 1).join('\n')}\n`,
  );
}

main().catch(async (err: unknown) => {
  console.error(`npm run dev failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
});
