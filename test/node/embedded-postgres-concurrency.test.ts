import { connect, type Socket } from 'node:net';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Pool } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureNeon } from '../../db/client';
import { type NeonProxyHandle, postgresTarget, startNeonProxy } from '../../dev/neon-proxy';
import { installSessionLane } from '../../dev/pglite-session-lane';
import { type PostgresHandle, startEmbeddedPostgres } from '../../dev/postgres';

const range = (count: number) => Array.from({ length: count }, (_, i) => i);

/** A frontend message: type byte, length, then each part (strings NUL-terminated). */
function frontend(type: string, ...parts: (string | Buffer)[]): Buffer {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(`${p}\0`) : p)));
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

/** Parse, Bind and Execute of the unnamed statement (no parameters), without the Sync that ends the sequence. */
const unsynced = (sql: string) => [
  frontend('P', '', sql, Buffer.alloc(2)),
  frontend('B', '', '', Buffer.alloc(6)),
  frontend('E', '', Buffer.alloc(4)),
];

/** A bare wire-protocol client, to stop talking (or leave) at points a driver never would. */
class WireClient {
  private buffer = Buffer.alloc(0);
  private received: { type: string; body: Buffer }[] = [];
  private waiting?: () => void;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 5 && this.buffer.length >= 1 + this.buffer.readInt32BE(1)) {
        const length = this.buffer.readInt32BE(1);
        this.received.push({
          type: String.fromCharCode(this.buffer[0] ?? 0),
          body: this.buffer.subarray(5, 1 + length),
        });
        this.buffer = this.buffer.subarray(1 + length);
      }
      this.waiting?.();
    });
  }

  static async connect(databaseUrl: string): Promise<WireClient> {
    const { hostname, port } = new URL(databaseUrl);
    const socket = connect({ host: hostname, port: Number(port) });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new WireClient(socket);
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + params.length, 0);
    startup.writeInt32BE(196608, 4);
    client.socket.write(Buffer.concat([startup, params]));
    await client.next('Z');
    return client;
  }

  send(...messages: Buffer[]) {
    this.socket.write(Buffer.concat(messages));
  }

  /** The body of the next backend message of this type; earlier ones of other types are skipped. */
  async next(type: string): Promise<Buffer> {
    for (;;) {
      const message = this.received.shift();
      if (message?.type === 'E') throw new Error(`server error: ${message.body.toString()}`);
      if (message?.type === type) return message.body;
      if (!message) await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  leave() {
    this.socket.destroy();
  }
}

describe('embedded Postgres with concurrent connections', () => {
  let postgres: PostgresHandle;
  let proxy: NeonProxyHandle;
  let pool: Pool;

  beforeAll(async () => {
    postgres = await startEmbeddedPostgres();
    proxy = await startNeonProxy({ allowedTargets: [postgresTarget(postgres.url)] });
    configureNeon({ wsProxy: proxy.wsProxy });
    pool = new Pool({ connectionString: postgres.url, max: 8 });
    pool.on('error', () => {});
    await pool.query('create table probe (tag text not null, n int not null, payload text)');
  });

  afterAll(async () => {
    await pool?.end();
    await proxy?.close();
    await postgres?.stop();
  });

  // A parameter this large reaches pglite-socket in several reads, so the client's Bind comes in
  // after its Parse, leaving room for another client's messages in between.
  const large = (n: number) => (n % 2 === 0 ? 'x'.repeat(200_000) : `small ${n}`);

  it('runs every parameterized query as its own statement with its own parameters', async () => {
    const answers = await Promise.allSettled(
      range(200).map((n) =>
        pool.query(`select $1::int as n, length($2::text) as size, ${n} as statement`, [
          n,
          large(n),
        ]),
      ),
    );
    expect(
      answers.map((answer) => (answer.status === 'fulfilled' ? answer.value.rows : answer.reason)),
    ).toEqual(range(200).map((n) => [{ n, size: large(n).length, statement: n }]));
  });

  it('keeps concurrent transactions apart, and a rolled back one leaves nothing', async () => {
    const transaction = async (i: number) => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(
          `insert into probe (tag, n, payload) values ($1, $2, $4), ($1, $3, $4) -- ${i}`,
          [`t${i}`, i, i + 1000, large(i)],
        );
        const { rows } = await client.query('select n from probe where tag = $1 order by n', [
          `t${i}`,
        ]);
        await client.query(i % 3 === 0 ? 'rollback' : 'commit');
        return rows.map((row) => row.n);
      } finally {
        client.release();
      }
    };
    const seen = await Promise.allSettled(range(60).map(transaction));
    expect(seen.map((s) => (s.status === 'fulfilled' ? s.value : s.reason))).toEqual(
      range(60).map((i) => [i, i + 1000]),
    );
    const { rows } = await pool.query(
      "select tag, count(*)::int as count from probe where tag like 't%' group by tag",
    );
    expect(new Map(rows.map((row) => [row.tag, row.count]))).toEqual(
      new Map(range(60).flatMap((i) => (i % 3 === 0 ? [] : [[`t${i}`, 2]]))),
    );
  });

  it('rolls back a client that leaves mid-transaction and lets the others in', async () => {
    const leaver = await WireClient.connect(postgres.url);
    leaver.send(frontend('Q', "begin; insert into probe (tag, n) values ('left-in-tx', 1)"));
    await leaver.next('Z');
    const waiting = pool.query('select count(*)::int as count from probe where tag = $1', [
      'left-in-tx',
    ]);
    leaver.leave();
    expect((await waiting).rows).toEqual([{ count: 0 }]);
  });

  it('lets the others in when a client leaves mid-sequence, without committing it', async () => {
    const leaver = await WireClient.connect(postgres.url);
    leaver.send(...unsynced("insert into probe (tag, n) values ('left-mid-sequence', 1)"));
    leaver.send(frontend('H'));
    await leaver.next('C');
    const waiting = pool.query('select count(*)::int as count from probe where tag = $1', [
      'left-mid-sequence',
    ]);
    leaver.leave();
    expect((await waiting).rows).toEqual([{ count: 0 }]);
    expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });
});

describe('installSessionLane', () => {
  it('refuses a pglite-socket whose query queue is not where it expects', () => {
    const server = { db: {}, queryQueue: { enqueue() {} } } as unknown as PGLiteSocketServer;
    expect(() => installSessionLane(server)).toThrow(
      /no longer has server\.queryQueue with getQueueLength, clearQueueForHandler/,
    );
  });
});
