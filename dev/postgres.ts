import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import getPort from 'get-port';
import { installSessionLane } from './pglite-session-lane';

export interface PostgresHandle {
  url: string;
  source: 'embedded' | 'env';
  stop(): Promise<void>;
}

// pglite-socket allows one connection by default; a second pool connection would be refused.
const MAX_CONNECTIONS = 64;

/**
 * Real Postgres compiled to WebAssembly, served on a TCP port with the Postgres wire protocol.
 * `dataDir` keeps the data across restarts; without it the database lives in memory.
 */
export async function startEmbeddedPostgres(
  options: { dataDir?: string; port?: number } = {},
): Promise<PostgresHandle> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  const port = options.port ?? (await getPort());
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port,
    maxConnections: MAX_CONNECTIONS,
  });
  // The connections share PGlite's one session: each keeps it until its Sync, or its transaction ends.
  installSessionLane(server);
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    source: 'embedded',
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/** `DATABASE_URL` when set, else the embedded server. */
export async function startPostgres(options: { dataDir?: string; port?: number } = {}) {
  const url = process.env.DATABASE_URL;
  if (url) return { url, source: 'env', stop: async () => {} } satisfies PostgresHandle;
  return startEmbeddedPostgres(options);
}
