import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';

/**
 * Without the relational schema: `drizzle({ schema })` derives every table's relations again for
 * each pool, which is each request on Workers, and the code uses only the core query builder.
 */
export type Database = NeonDatabase;
/** The handle a `db.transaction` callback receives. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DbOptions {
  /** `host:port/path` of a Neon-compatible WebSocket proxy (the local stack); unset for Neon itself. */
  wsProxy?: string | undefined;
  /**
   * Behind the proxy, whether the server takes a cleartext password: then the driver pipelines
   * it with the startup and the first query, as it does with Neon, and saves two round trips.
   */
  pipelineConnect?: 'password' | undefined;
}

/**
 * The local proxy speaks plain ws:// to a Postgres without TLS, so the driver must not wrap the
 * connection in TLS. It pipelines the startup only when told the server takes a cleartext
 * password: pipelining sends the password unasked, which a server asking SCRAM or nothing
 * (a `DATABASE_URL` server) refuses.
 */
export function configureNeon({ wsProxy, pipelineConnect }: DbOptions): void {
  if (!wsProxy) return;
  neonConfig.wsProxy = (host, port) => `${wsProxy}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineConnect = pipelineConnect ?? false;
}

export interface DbHandle {
  db: Database;
  pool: Pool;
}

/** One pool per request on Workers: sockets cannot outlive the request that opened them. */
export function createDb(connectionString: string, options: DbOptions = {}): DbHandle {
  configureNeon(options);
  // No idle timeout: the pool ends with its request, and each query's release would otherwise
  // set a timer and each acquire clear it, for nothing.
  const pool = new Pool({
    connectionString,
    max: 5,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 0,
  });
  // An idle client's socket error must not become an unhandled rejection that kills the isolate.
  pool.on('error', () => {});
  return { db: drizzle({ client: pool }), pool };
}
