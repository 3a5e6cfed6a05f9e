import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * What pglite-socket 0.2.x calls on `server.queryQueue`: each PGLiteSocketHandler enqueues its
 * client's messages one at a time and clears its turns when the client goes; the server counts them.
 */
interface QueryQueue {
  enqueue(
    handlerId: number,
    message: Uint8Array,
    onData: (data: Uint8Array) => void,
  ): Promise<number>;
  getQueueLength(): number;
  clearQueueForHandler(handlerId: number): void;
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
}

const QUEUE_METHODS = [
  'enqueue',
  'getQueueLength',
  'clearQueueForHandler',
  'clearTransactionIfNeeded',
] as const satisfies readonly (keyof QueryQueue)[];

const code = (type: string) => type.charCodeAt(0);
/** Parse, Bind, Describe, Execute, Close, Flush: the session stays with the client until its Sync. */
const EXTENDED_QUERY = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map(code));
const SYNC = code('S');

function frontend(type: string, body: string | Uint8Array = ''): Uint8Array {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const message = Buffer.alloc(5 + payload.length);
  message.write(type, 0);
  message.writeInt32BE(4 + payload.length, 1);
  message.set(payload, 5);
  return message;
}

/**
 * Ends whatever a departed client left open without committing it: a ROLLBACK run in its
 * unfinished sequence aborts the implicit transaction (after an error the backend skips it and
 * the Sync discards the sequence); a simple ROLLBACK then ends any explicit transaction.
 */
const ROLLBACK_SEQUENCE = [
  frontend('P', '\0ROLLBACK\0\0\0'),
  frontend('B', '\0\0\0\0\0\0\0\0'),
  frontend('E', '\0\0\0\0\0'),
  frontend('S'),
];
const ROLLBACK_QUERY = frontend('Q', 'ROLLBACK\0');

interface Turn {
  handlerId: number;
  run(): Promise<number>;
  resolve(bytes: number): void;
  reject(error: unknown): void;
}

/**
 * PGlite has one Postgres session for every connection. This lane gives it to one client at a
 * time: from its first message until its Sync (a simple Query is one message), and for the whole
 * of a transaction. Other clients' messages wait in arrival order.
 */
export class SessionLane implements QueryQueue {
  private turns: Turn[] = [];
  private holder: number | undefined;
  private inSequence = false;
  private draining = false;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void) {
    return this.schedule(handlerId, async () => {
      try {
        return await this.exec(message, onData);
      } finally {
        const type = message[0] ?? 0;
        if (EXTENDED_QUERY.has(type)) this.inSequence = true;
        else if (type === SYNC) this.inSequence = false;
        if (!this.inSequence && !this.inTransaction()) this.holder = undefined;
      }
    });
  }

  getQueueLength() {
    return this.turns.length;
  }

  clearQueueForHandler(handlerId: number) {
    const leaving = this.turns.filter((turn) => turn.handlerId === handlerId);
    this.turns = this.turns.filter((turn) => turn.handlerId !== handlerId);
    for (const turn of leaving) turn.reject(new Error('Handler disconnected'));
  }

  /** A client that leaves while holding the session: roll back what it left open, then let the next in. */
  async clearTransactionIfNeeded(handlerId: number) {
    if (this.holder !== handlerId) return;
    await this.schedule(handlerId, () => this.release(), { first: true }).catch(() => {});
  }

  private schedule(handlerId: number, run: () => Promise<number>, { first = false } = {}) {
    return new Promise<number>((resolve, reject) => {
      const turn = { handlerId, run, resolve, reject };
      if (first) this.turns.unshift(turn);
      else this.turns.push(turn);
      void this.drain();
    });
  }

  private async drain() {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let turn = this.take(); turn; turn = this.take()) {
        this.holder = turn.handlerId;
        if (this.db.closed) turn.reject(new Error('PGlite is closed'));
        else await turn.run().then(turn.resolve, turn.reject);
      }
    } finally {
      this.draining = false;
    }
  }

  /** The holder's next turn (none yet: the session waits for it), else the oldest turn. */
  private take(): Turn | undefined {
    const index =
      this.holder === undefined ? 0 : this.turns.findIndex((t) => t.handlerId === this.holder);
    return index === -1 ? undefined : this.turns.splice(index, 1)[0];
  }

  private async release() {
    try {
      if (this.inSequence) for (const message of ROLLBACK_SEQUENCE) await this.exec(message);
      if (this.inTransaction()) await this.exec(ROLLBACK_QUERY);
    } finally {
      this.inSequence = false;
      this.holder = undefined;
    }
    return 0;
  }

  private async exec(message: Uint8Array, onData: (data: Uint8Array) => void = () => {}) {
    let bytes = 0;
    await this.db.runExclusive(() =>
      this.db.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          onData(data);
        },
      }),
    );
    return bytes;
  }

  private inTransaction() {
    return !this.db.closed && this.db.isInTransaction();
  }
}

/**
 * Puts a SessionLane in the place of pglite-socket's own query queue, which interleaves clients'
 * extended-query messages. Call before `start()`: each connection's handler takes the queue then.
 */
export function installSessionLane(server: PGLiteSocketServer): SessionLane {
  const internals = server as unknown as {
    queryQueue?: Partial<Record<keyof QueryQueue, unknown>>;
  };
  const queue = internals.queryQueue;
  const missing = QUEUE_METHODS.filter((method) => typeof queue?.[method] !== 'function');
  if (missing.length > 0) {
    throw new Error(
      `@electric-sql/pglite-socket no longer has server.queryQueue with ${missing.join(', ')}: ` +
        'dev/pglite-session-lane.ts replaces that queue so that clients sharing the PGlite ' +
        "session don't interleave, and must be updated for this version.",
    );
  }
  const lane = new SessionLane(server.db);
  internals.queryQueue = lane;
  return lane;
}
