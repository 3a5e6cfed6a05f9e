import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { PgSessionPool } from './pg-session-pool';

export interface NeonProxyHandle {
  /** Value for `neonConfig.wsProxy` (host:port/path, no scheme). */
  wsProxy: string;
  port: number;
  close(): Promise<void>;
}

/**
 * How long a close waits for the client's answer before the socket is dropped. A Worker whose
 * request has ended never answers a close frame, and `ws` would hold each such socket 30 s:
 * under load, some 2,000 at once, each costing the proxy and workerd.
 */
const CLOSE_GRACE_MS = 1_000;

function closeSoon(ws: WebSocket): void {
  if (ws.readyState === WebSocket.OPEN) ws.close();
  setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? Buffer.from(data) : data;
}

function bridge(ws: WebSocket, tcp: Socket) {
  const closeBoth = () => {
    tcp.destroy();
    closeSoon(ws);
  };
  ws.on('message', (data) => tcp.write(toBuffer(data)));
  tcp.on('data', (chunk) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(chunk);
  });
  tcp.on('error', closeBoth);
  tcp.on('close', closeBoth);
  ws.on('close', closeBoth);
  ws.on('error', closeBoth);
}

/** A client's WebSocket served by a pooled backend instead of a connection of its own. */
function pooled(ws: WebSocket, pool: PgSessionPool) {
  const session = pool.accept({
    send: (data) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    close: () => closeSoon(ws),
  });
  ws.on('message', (data) => session.receive(toBuffer(data)));
  ws.on('close', () => session.closed());
  ws.on('error', () => session.closed());
}

/**
 * Neon's WebSocket proxy protocol: raw Postgres bytes in binary frames, the target given as
 * `?address=host:port`. Only the targets listed are reachable, so it is never an open relay.
 * With `pool`, clients share authenticated server connections (dev/pg-session-pool.ts), as
 * they do behind Neon's pooler or Hyperdrive; without it each client gets its own, which
 * tests that create and drop databases need.
 */
export async function startNeonProxy(options: {
  allowedTargets: string[];
  port?: number;
  host?: string;
  pool?: boolean;
}): Promise<NeonProxyHandle> {
  const host = options.host ?? '127.0.0.1';
  const allowed = new Set(options.allowedTargets);
  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade required\n');
  });
  const wss = new WebSocketServer({ server });
  const pools = new Map<string, PgSessionPool>();
  wss.on('connection', (ws, req) => {
    const address = new URL(req.url ?? '/', 'http://proxy').searchParams.get('address') ?? '';
    if (!allowed.has(address)) {
      ws.close(1008, `target ${address || '(none)'} is not allowed`);
      return;
    }
    const separator = address.lastIndexOf(':');
    const host = address.slice(0, separator);
    const port = Number(address.slice(separator + 1));
    if (options.pool) {
      const pool = pools.get(address) ?? new PgSessionPool(host, port);
      pools.set(address, pool);
      pooled(ws, pool);
      return;
    }
    const tcp = connect({ host, port });
    tcp.setNoDelay(true);
    bridge(ws, tcp);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const addressInfo = server.address();
  const port = typeof addressInfo === 'object' && addressInfo ? addressInfo.port : 0;
  return {
    wsProxy: `${host}:${port}/v2`,
    port,
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const pool of pools.values()) pool.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `host:port` of a postgres:// URL, as the driver will ask the proxy for it. */
export function postgresTarget(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || '5432'}`;
}
