import { timingSafeEqual } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { cstring, errorResponse, int32, type Message, MessageReader, message } from './pg-protocol';
import { ClientStatements, ServerStatements } from './pg-statements';

/**
 * Session pooling for the local Neon proxy, as Neon's pooler and Hyperdrive give production.
 *
 * A Worker cannot keep a socket across requests, so each request opens its own connection. On
 * a plain PostgreSQL that is a fork, an authentication and a cold catalog cache per request:
 * ~10 ms of CPU on this machine, most of what an authenticated read cost under load. Here a
 * client's connection is served by an authenticated backend kept from an earlier client of
 * the same user, database and options, reset between clients as `DISCARD ALL` does, but for
 * the prepared statements it shares with them (dev/pg-statements.ts).
 *
 * Only backends whose server asked for no password or a cleartext one are kept (the local
 * stack's cluster uses cleartext over loopback, as Neon takes the password over TLS): a
 * later client must give the same password before it gets one. A client that leaves with a
 * query unanswered or inside a transaction loses its backend instead of passing it on.
 */

const PROTOCOL_3 = 196_608;
const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;
const CANCEL_REQUEST = 80_877_102;
/** Backends kept idle per user/database/options; more are closed when their client leaves. */
const MAX_IDLE = 100;
const IDLE_TIMEOUT_MS = 30_000;

const AUTH_OK = message('R', int32(0));
const ASK_CLEARTEXT_PASSWORD = message('R', int32(3));
const DISCARD_ALL = message('Q', cstring('DISCARD ALL'));
/** DISCARD ALL but for the statements the pool shares (dev/pg-statements.ts) and their plans. */
const RESET_KEEPING_STATEMENTS = message(
  'Q',
  cstring(
    'CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; ' +
      'SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES',
  ),
);

/** The connection a pooled client talks to, as the proxy's WebSocket side sees it. */
export interface ClientLink {
  send(data: Buffer): void;
  close(): void;
}

interface Backend {
  socket: Socket;
  key: string;
  /** Whether it may serve another client: the server asked for no password or a cleartext one. */
  poolable: boolean;
  /** What the server said after authentication (parameters, key data, ReadyForQuery). */
  greeting: Buffer[];
  /** The cleartext password the server accepted, or null when it asked for none. */
  password: Buffer | null;
  /** Queries, syncs and function calls sent whose ReadyForQuery has not come back yet. */
  awaiting: number;
  /** The transaction status of the last ReadyForQuery: I idle, T in a transaction, E failed. */
  status: string;
  /** The prepared statements it keeps for its clients. */
  statements: ServerStatements;
  /** Where its messages go: the session it serves, or the reset between two sessions. */
  onMessage: (message: Message) => void;
  /** Called when the server's side closes: the client it serves must learn it. */
  onClosed: () => void;
  idleTimer?: NodeJS.Timeout;
}

export class PgSessionPool {
  private readonly idle = new Map<string, Backend[]>();
  private readonly open = new Set<Backend>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  private connect(): Socket {
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    return socket;
  }

  /** Serves one client connection: the proxy hands it what the client sends, and its end. */
  accept(client: ClientLink): { receive(data: Buffer): void; closed(): void } {
    let startup = Buffer.alloc(0);
    let session: Session | null = null;
    return {
      receive: (data) => {
        if (session) {
          session.receive(data);
          return;
        }
        startup = Buffer.concat([startup, data]);
        while (!session && startup.length >= 8 && startup.length >= startup.readInt32BE(0)) {
          const packet = startup.subarray(0, startup.readInt32BE(0));
          startup = startup.subarray(packet.length);
          const code = packet.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            client.send(Buffer.from('N'));
          } else if (code === CANCEL_REQUEST) {
            // The key data the client holds is its backend's own, so the server can act on it.
            this.connect().end(packet);
            client.close();
          } else if (code === PROTOCOL_3) {
            session = new Session(this, client, packet);
            if (startup.length) session.receive(startup);
          } else {
            client.send(errorResponse('08P01', `unsupported protocol ${code}`));
            client.close();
          }
        }
      },
      closed: () => session?.end(),
    };
  }

  /** An idle backend for `key`, or a new connection that still has to authenticate. */
  take(key: string): { backend: Backend; fresh: boolean } {
    const kept = this.idle.get(key)?.pop();
    if (kept) {
      clearTimeout(kept.idleTimer);
      return { backend: kept, fresh: false };
    }
    const backend: Backend = {
      socket: this.connect(),
      key,
      poolable: true,
      greeting: [],
      password: null,
      awaiting: 0,
      status: 'I',
      statements: new ServerStatements(),
      onMessage: () => {},
      onClosed: () => {},
    };
    const reader = new MessageReader();
    backend.socket.on('data', (chunk: Buffer) => {
      for (const m of reader.push(chunk)) backend.onMessage(m);
    });
    // An error is followed by a close: either one ends the backend, once.
    backend.socket.on('error', () => this.drop(backend));
    backend.socket.on('close', () => this.drop(backend));
    this.open.add(backend);
    return { backend, fresh: true };
  }

  /** Takes a backend back from a client that left: reset and kept, or closed. */
  release(backend: Backend): void {
    if (!this.open.has(backend)) return;
    backend.onMessage = () => {};
    backend.onClosed = () => {};
    if (!backend.poolable || backend.awaiting > 0 || backend.status !== 'I') {
      this.drop(backend);
      return;
    }
    backend.awaiting = 1;
    backend.onMessage = (m) => {
      if (m.type === 'E') backend.poolable = false;
      if (m.type !== 'Z') return;
      backend.awaiting = 0;
      const kept = this.idle.get(backend.key) ?? [];
      if (!backend.poolable || kept.length >= MAX_IDLE) {
        this.drop(backend);
        return;
      }
      backend.onMessage = () => this.drop(backend);
      backend.idleTimer = setTimeout(() => this.drop(backend), IDLE_TIMEOUT_MS).unref();
      kept.push(backend);
      this.idle.set(backend.key, kept);
    };
    const discard = backend.statements.needsDiscard;
    if (discard) backend.statements.clear();
    backend.socket.write(discard ? DISCARD_ALL : RESET_KEEPING_STATEMENTS);
  }

  /** Closes a backend for good, once; the client it was serving learns it. */
  drop(backend: Backend): void {
    if (!this.open.delete(backend)) return;
    clearTimeout(backend.idleTimer);
    const kept = this.idle.get(backend.key);
    if (kept?.includes(backend)) kept.splice(kept.indexOf(backend), 1);
    const { onClosed } = backend;
    backend.onMessage = () => {};
    backend.onClosed = () => {};
    backend.socket.destroy();
    onClosed();
  }

  /** Closes every backend, idle or serving (the proxy is stopping). */
  close(): void {
    for (const backend of [...this.open]) this.drop(backend);
  }
}

/** One client connection, from its startup packet to its end. */
class Session {
  private readonly reader = new MessageReader();
  private readonly backend: Backend;
  private readonly statements: ClientStatements;
  private state: 'handshake' | 'password' | 'relay' | 'ended' = 'handshake';
  /** The password the client sent during a fresh handshake, kept if the server accepts it. */
  private offeredPassword: Buffer | null = null;

  constructor(
    private readonly pool: PgSessionPool,
    private readonly client: ClientLink,
    startup: Buffer,
  ) {
    const { backend, fresh } = pool.take(startup.toString('latin1'));
    this.backend = backend;
    this.statements = new ClientStatements(backend.statements);
    backend.onClosed = () => this.end();
    if (fresh) {
      backend.onMessage = (m) => this.fromServerDuringHandshake(m);
      backend.socket.write(startup);
    } else if (backend.password) {
      this.state = 'password';
      backend.onMessage = () => this.end();
      client.send(ASK_CLEARTEXT_PASSWORD);
    } else {
      this.startRelay();
      client.send(Buffer.concat([AUTH_OK, ...backend.greeting]));
    }
  }

  private fromServerDuringHandshake(m: Message): void {
    const { backend } = this;
    if (m.type === 'R') {
      const code = m.payload.readInt32BE(0);
      if (code === 0) {
        backend.password = this.offeredPassword;
        backend.greeting = [];
      } else if (code !== 3) backend.poolable = false;
    } else if (m.type === 'E') {
      backend.poolable = false;
    } else {
      backend.greeting.push(m.raw);
    }
    this.client.send(m.raw);
    if (m.type === 'Z') {
      backend.status = String.fromCharCode(m.payload[0]!);
      this.startRelay();
    }
  }

  private startRelay(): void {
    this.state = 'relay';
    const { backend, client } = this;
    backend.onMessage = (m) => {
      if (m.type === 'Z') {
        backend.awaiting = Math.max(0, backend.awaiting - 1);
        backend.status = String.fromCharCode(m.payload[0]!);
      }
      this.statements.fromServer(m);
      client.send(m.raw);
    };
  }

  receive(data: Buffer): void {
    for (const m of this.reader.push(data)) {
      if (this.state === 'ended') return;
      if (m.type === 'X') {
        this.end();
        return;
      }
      if (this.state === 'password') this.checkPassword(m);
      else if (this.state === 'handshake' && m.type === 'p') {
        this.offeredPassword = Buffer.from(m.payload);
        this.backend.socket.write(m.raw);
      } else this.relay(m);
    }
  }

  /** A client message after the password: to the server, or answered here (a shared Parse). */
  private relay(m: Message): void {
    const { backend } = this;
    const serverIdle = this.state === 'relay' && backend.awaiting === 0;
    const { toServer, toClient } = this.statements.fromClient(m, serverIdle);
    if (toClient) this.client.send(toClient);
    if (!toServer) return;
    if (m.type === 'Q' || m.type === 'S' || m.type === 'F') backend.awaiting++;
    backend.socket.write(toServer);
  }

  private checkPassword(m: Message): void {
    const expected = this.backend.password!;
    const given = m.type === 'p' ? m.payload : Buffer.alloc(0);
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      this.startRelay();
      this.client.send(Buffer.concat([AUTH_OK, ...this.backend.greeting]));
      return;
    }
    this.client.send(errorResponse('28P01', 'password authentication failed'));
    this.end();
  }

  /** The client left (Terminate, or its socket closed): its backend goes back or away. */
  end(): void {
    if (this.state === 'ended') return;
    const handshaking = this.state === 'handshake';
    this.state = 'ended';
    this.client.close();
    if (handshaking) this.pool.drop(this.backend);
    else this.pool.release(this.backend);
  }
}
