import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../db/client';
import { postgresTarget, startNeonProxy } from '../../dev/neon-proxy';
import { startEmbeddedPostgres } from '../../dev/postgres';
import { type ChildEnv, STARTUP_TIMEOUT_MS, startStack, stopStack } from './stack';

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Every process's command line, as `ps` shows them to any user. */
async function allCommandLines(): Promise<string[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const lines = await Promise.all(
    pids.map((pid) =>
      readFile(`/proc/${pid}/cmdline`, 'utf8').then(
        (line) => line.replaceAll('\0', ' '),
        () => '',
      ),
    ),
  );
  return lines.filter(Boolean);
}

/** A directory holding only the named system commands. */
async function binDirWith(...commands: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sparki-bin-'));
  for (const command of commands) {
    const path = execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
    await symlink(path, join(dir, command));
  }
  return dir;
}

async function withDb<T>(url: string, run: (db: ReturnType<typeof createDb>['db']) => Promise<T>) {
  const proxy = await startNeonProxy({ allowedTargets: [postgresTarget(url)] });
  const { db, pool } = createDb(url, { wsProxy: proxy.wsProxy });
  try {
    return await run(db);
  } finally {
    await pool.end();
    await proxy.close();
  }
}

describe('npm run dev (the local stack)', () => {
  let stateDir: string;
  // The embedded default is what a fresh machine gets: no DATABASE_URL, no REDIS_URL.
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...env }: ChildEnv = process.env;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'sparki-dev-'));
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it(
    'starts everything, is ready, stops cleanly on Ctrl-C and keeps data across restarts',
    async () => {
      const port = await getPort();
      const first = await startStack(stateDir, port, env);
      try {
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        const body = (await ready.json()) as { checks: Record<string, { status: string }> };
        expect(ready.status, first.output()).toBe(200);
        expect(body.checks.postgres?.status).toBe('ok');
        expect(body.checks.redis?.status).toBe('ok');
        expect(first.postgresUrl).toMatch(/^postgres:\/\//);
        // The Worker's secrets reach wrangler through a file of the stack's, never a command
        // line, which `ps` shows to every user of the machine.
        const keys = JSON.parse(await readFile(join(stateDir, 'keys.json'), 'utf8'));
        const commandLines = await allCommandLines();
        expect(commandLines.some((line) => line.includes('wrangler'))).toBe(true);
        for (const secret of [keys.ENCRYPTION_KEY, keys.JWT_SIGNING_KEYS]) {
          expect(commandLines.filter((line) => line.includes(secret))).toEqual([]);
        }
        expect((await stat(join(stateDir, 'dev.vars'))).mode & 0o777).toBe(0o600);
        // The dashboard at `/` comes from Vite's dev server (hot reload) through the Worker, on
        // the printed origin, and the page's modules are transformed on the way.
        const home = await fetch(`http://localhost:${port}/`);
        expect(home.status).toBe(200);
        const html = await home.text();
        expect(html).toContain('/@vite/client');
        expect(html).toContain('<div id="root"></div>');
        const entry = await fetch(`http://localhost:${port}/src/main.tsx`);
        expect(entry.headers.get('content-type')).toContain('javascript');
        expect(await entry.text()).toContain('createRoot');
        await withDb(first.postgresUrl, (db) =>
          db.execute(
            sql`insert into workspaces (name, slug) values ('Kept', 'kept-across-restarts')`,
          ),
        );
      } finally {
        expect(await stopStack(first)).toBe(0);
      }
      // wrangler's local trace collector is off: it stored every request's spans here.
      expect(existsSync(join(stateDir, 'wrangler', 'v3', 'observability'))).toBe(false);
      for (const listened of first.ports) {
        expect(await accepts(listened), `port ${listened} still listening`).toBe(false);
      }

      const second = await startStack(stateDir, port, env);
      try {
        const rows = await withDb(second.postgresUrl, (db) =>
          db.execute<{ name: string }>(
            sql`select name from workspaces where slug = 'kept-across-restarts'`,
          ),
        );
        expect(rows.rows).toEqual([{ name: 'Kept' }]);
      } finally {
        expect(await stopStack(second)).toBe(0);
      }
    },
    STARTUP_TIMEOUT_MS * 2 + 60_000,
  );

  it(
    'runs without Redis and says what that degrades',
    async () => {
      const port = await getPort();
      const stateDir = await mkdtemp(join(tmpdir(), 'sparki-dev-'));
      const stack = await startStack(stateDir, port, {
        ...env,
        // No redis-server on PATH: only Node's own directory, and `id`, which embedded
        // PostgreSQL needs as root to find its user, stay reachable.
        PATH: `${join(process.execPath, '..')}:${await binDirWith('id')}`,
      });
      try {
        expect(stack.output()).toMatch(/Redis absent .*rate limits/);
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        const body = (await ready.json()) as {
          status: string;
          checks: Record<string, { status: string }>;
        };
        expect(ready.status).toBe(200);
        expect(body.status).toBe('degraded');
        expect(body.checks.redis?.status).toBe('absent');
      } finally {
        expect(await stopStack(stack)).toBe(0);
        await rm(stateDir, { recursive: true, force: true });
      }
    },
    STARTUP_TIMEOUT_MS + 60_000,
  );

  it(
    'uses the server in DATABASE_URL instead of the embedded one, migrating it',
    async () => {
      const external = await startEmbeddedPostgres();
      const port = await getPort();
      const stateDir = await mkdtemp(join(tmpdir(), 'sparki-dev-'));
      const stack = await startStack(stateDir, port, { ...env, DATABASE_URL: external.url });
      try {
        expect(stack.output()).toContain('Postgres: DATABASE_URL');
        expect(stack.output()).not.toContain('embedded PostgreSQL');
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(ready.status).toBe(200);
        const tables = await withDb(external.url, (db) =>
          db.execute<{ n: number }>(
            sql`select count(*)::int as n from information_schema.tables where table_name = 'builds'`,
          ),
        );
        expect(tables.rows[0]?.n).toBe(1);
      } finally {
        expect(await stopStack(stack)).toBe(0);
        await external.stop();
        await rm(stateDir, { recursive: true, force: true });
      }
    },
    STARTUP_TIMEOUT_MS + 60_000,
  );
});
