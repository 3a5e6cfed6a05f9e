import { cstring, type Message, message, readCString } from './pg-protocol';

/**
 * Protocol-level prepared statements shared by the clients a pooled server connection serves in
 * turn, as PgBouncer ≥ 1.21 shares them behind Neon's pooler.
 *
 * A Worker opens a new connection for each request, so every named statement it prepares is
 * new to it; Postgres would parse and plan it again each time. The pool keeps each statement
 * on the server connection under a name of its own, keyed by its text and parameter types: a
 * later client's Parse of the same text is answered by the proxy, and its Bind, Describe and
 * Close are sent with the server's name. Unnamed statements pass through untouched.
 */

/** Beyond this many statements on one server connection, it is reset with DISCARD ALL. */
const MAX_STATEMENTS = 1_000;
const PARSE_COMPLETE = message('1', Buffer.alloc(0));
/** SQL that creates or drops statements behind the pool's back: the connection is reset in full. */
const STATEMENT_SQL = /\b(prepare|deallocate|discard)\b/i;

/** What one server connection has prepared for its clients. */
export class ServerStatements {
  /** The server's name of each statement, by its text and parameter types. */
  readonly byText = new Map<string, string>();
  /** Statements the server holds, a second copy of one included. */
  private held = 0;
  private next = 0;
  /** A client ran SQL the pool cannot follow (PREPARE, DEALLOCATE, DISCARD). */
  private untracked = false;

  newName(): string {
    this.held++;
    return `sparki_pool_${++this.next}`;
  }

  /** The server may hold other statements, or not ours: none is shared until DISCARD ALL. */
  loseTrack(): void {
    this.untracked = true;
    this.byText.clear();
  }

  forget(serverName: string): void {
    for (const [text, name] of this.byText) if (name === serverName) this.byText.delete(text);
  }

  /** Whether the connection must be reset in full before its next client (DISCARD ALL). */
  get needsDiscard(): boolean {
    return this.untracked || this.held > MAX_STATEMENTS;
  }

  /** After DISCARD ALL: the server holds none. */
  clear(): void {
    this.byText.clear();
    this.held = 0;
    this.untracked = false;
  }
}

/** Rewrites `payload`'s statement name, the null-terminated string at `offset`. */
function renamed(type: string, payload: Buffer, offset: number, name: string): Buffer {
  const { end } = readCString(payload, offset);
  return message(
    type,
    Buffer.concat([payload.subarray(0, offset), cstring(name), payload.subarray(end)]),
  );
}

/** One client's statement names, mapped to the server connection's. */
export class ClientStatements {
  private readonly names = new Map<string, string>();
  /** Parses sent to the server, in order, until it answers them (null: an unnamed one). */
  private readonly parsing: ({ text: string; serverName: string } | null)[] = [];
  /** Messages sent since the last Sync or simple query: the server still owes their answers. */
  private unsynced = 0;

  constructor(private readonly server: ServerStatements) {}

  /**
   * What to send the server for the client's message `m`, and what to answer the client at
   * once. A Parse is answered by the proxy only when the server owes the client nothing
   * (`serverIdle`, nothing unsynced): its ParseComplete then comes in the client's order.
   */
  fromClient(
    m: Message,
    serverIdle: boolean,
  ): { toServer: Buffer | null; toClient: Buffer | null } {
    const forward = (raw: Buffer = m.raw) => {
      this.unsynced = m.type === 'S' || m.type === 'Q' ? 0 : this.unsynced + 1;
      return { toServer: raw, toClient: null };
    };
    switch (m.type) {
      case 'P': {
        const { text: name, end } = readCString(m.payload);
        const text = m.payload.toString('latin1', end);
        if (STATEMENT_SQL.test(text)) this.server.loseTrack();
        if (name === '') {
          this.parsing.push(null);
          return forward();
        }
        const kept = this.server.byText.get(text);
        if (kept && serverIdle && this.unsynced === 0) {
          this.names.set(name, kept);
          return { toServer: null, toClient: PARSE_COMPLETE };
        }
        const serverName = this.server.newName();
        this.names.set(name, serverName);
        this.parsing.push({ text, serverName });
        return forward(renamed('P', m.payload, 0, serverName));
      }
      case 'B': {
        // The portal's name comes first, then the statement's.
        const statementAt = readCString(m.payload).end;
        const serverName = this.names.get(readCString(m.payload, statementAt).text);
        if (!serverName) return forward();
        return forward(renamed('B', m.payload, statementAt, serverName));
      }
      case 'D':
      case 'C': {
        if (String.fromCharCode(m.payload[0]!) !== 'S') return forward();
        const name = readCString(m.payload, 1).text;
        const serverName = this.names.get(name);
        if (!serverName) return forward();
        if (m.type === 'C') {
          this.names.delete(name);
          this.server.forget(serverName);
        }
        return forward(renamed(m.type, m.payload, 1, serverName));
      }
      case 'Q':
        if (STATEMENT_SQL.test(m.payload.toString('latin1'))) this.server.loseTrack();
        return forward();
      default:
        return forward();
    }
  }

  /** Follows the server's answers: a ParseComplete makes its statement one to share. */
  fromServer(m: Message): void {
    if (m.type === '1') {
      const parsed = this.parsing.shift();
      if (parsed && !this.server.needsDiscard && !this.server.byText.has(parsed.text)) {
        this.server.byText.set(parsed.text, parsed.serverName);
      }
    } else if (m.type === 'Z') {
      // Parses the server skipped after an error: never prepared.
      this.parsing.length = 0;
    }
  }
}
