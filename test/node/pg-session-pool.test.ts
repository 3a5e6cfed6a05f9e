import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Client } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { configureNeon } from '../../db/client';
import { type NeonProxyHandle, postgresTarget, startNeonProxy } from '../../dev/neon-proxy';
import { cstring, int32, message } from '../../dev/pg-protocol';
import { type PostgresHandle, startEmbeddedPostgres } from '../../dev/postgres';

/**
 * The local proxy's session pool (dev/pg-session-pool.ts) against the real embedded server: a
 * client after another gets the same server connection, with nothing of the first one's
 * session left; one that leaves mid-transaction passes nothing on; the password is checked for
 * every client, kept connection or not.
 */
describe('pooled connections through the local Neon proxy', () => {
  let postgres: PostgresHandle;
  let proxy: NeonProxyHandle;

  beforeAll(async () => {
    postgres = await startEmbeddedPostgres();
    proxy = await startNeonProxy({ allowedTargets: [postgresTarget(postgres.url)], pool: true });
    configureNeon({ wsProxy: proxy.wsProxy });
    await session(postgres.url, (c) => c.query('create table kept (n int)'));
  });

  afterAll(async () => {
    await proxy?.close();
    await postgres?.stop();
  });

  async function session<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client(url);
    client.on('error', () => {});
    await client.connect();
    try {
      return await run(client);
    } finally {
      await client.end();
    }
  }
  const backendPid = async (client: Client) =>
    (await client.query('select pg_backend_pid() as pid')).rows[0].pid as number;
  /** Settles once the proxy has reset the last client's connection and kept it. */
  const settled = () => new Promise((resolve) => setTimeout(resolve, 100));

  it('serves the next client with the same server connection, its session reset', async () => {
    const first = await session(postgres.url, async (c) => {
      const application = (await c.query('show application_name')).rows[0].application_name;
      await c.query("set application_name = 'first client'");
      await c.query('create temporary table scratch (n int)');
      await c.query('select pg_advisory_lock(4242)');
      await c.query('listen first_channel');
      return { pid: await backendPid(c), application };
    });
    await settled();
    const second = await session(postgres.url, async (c) => ({
      pid: await backendPid(c),
      application: (await c.query('show application_name')).rows[0].application_name,
      scratch: (await c.query("select to_regclass('pg_temp.scratch') as t")).rows[0].t,
      locks: (await c.query("select count(*)::int as n from pg_locks where locktype = 'advisory'"))
        .rows[0].n,
      channels: (await c.query('select count(*)::int as n from pg_listening_channels()')).rows[0].n,
    }));
    // The name the client gave at start-up again, not the one it set.
    expect(second).toEqual({ ...first, scratch: null, locks: 0, channels: 0 });
  });

  it('prepares a named statement once per server connection for the clients it serves', async () => {
    const text = 'select $1::int + 1 as n, pg_backend_pid() as pid';
    const run = (value: number) =>
      session(postgres.url, async (c) => {
        const { rows } = await c.query({ name: 'add_one', text, values: [value] });
        const prepared = await c.query(
          'select (custom_plans + generic_plans)::int as runs from pg_prepared_statements where statement = $1',
          [text],
        );
        return { ...rows[0], prepared: prepared.rows.map((row) => row.runs) };
      });
    const first = await run(1);
    await settled();
    const second = await run(41);
    expect(first).toMatchObject({ n: 2, prepared: [1] });
    // Same server connection, its one statement run a second time: the Parse was not sent again.
    expect(second).toEqual({ n: 42, pid: first.pid, prepared: [2] });
  });

  it('resets in full a connection whose client prepared statements in SQL', async () => {
    const pid = await session(postgres.url, async (c) => {
      await c.query('prepare named_statement as select 1');
      return backendPid(c);
    });
    await settled();
    const next = await session(postgres.url, async (c) => ({
      pid: await backendPid(c),
      prepared: (await c.query('select count(*)::int as n from pg_prepared_statements')).rows[0].n,
    }));
    expect(next).toEqual({ pid, prepared: 0 });
  });

  it('passes nothing on from a client that left inside a transaction', async () => {
    const left = await session(postgres.url, async (c) => {
      await c.query('begin');
      await c.query('insert into kept values (1)');
      return backendPid(c);
    });
    await settled();
    const next = await session(postgres.url, async (c) => ({
      pid: await backendPid(c),
      rows: (await c.query('select count(*)::int as n from kept')).rows[0].n,
      outsideTransaction: (await c.query('select now() = statement_timestamp() as fresh')).rows[0]
        .fresh,
    }));
    expect(next.pid).not.toBe(left);
    expect(next.rows).toBe(0);
    expect(next.outsideTransaction).toBe(true);
  });

  it('gives clients at the same time server connections of their own', async () => {
    const clients = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const client = new Client(postgres.url);
        await client.connect();
        await client.query('begin');
        return client;
      }),
    );
    const pids = await Promise.all(clients.map(backendPid));
    await Promise.all(clients.map((c) => c.query('rollback').then(() => c.end())));
    expect(new Set(pids).size).toBe(12);
  });

  it('ends the client whose server connection ends, and keeps nothing of it', async () => {
    const victim = new Client(postgres.url);
    const ended = new Promise<void>((resolve) => victim.on('end', () => resolve()));
    victim.on('error', () => {});
    await victim.connect();
    const pid = await backendPid(victim);
    await session(postgres.url, (c) => c.query('select pg_terminate_backend($1)', [pid]));
    await ended;
    await settled();
    expect(await session(postgres.url, backendPid)).not.toBe(pid);
  });

  it('refuses a wrong password whether a kept connection is there or not', async () => {
    await session(postgres.url, (c) => c.query('select 1'));
    await settled();
    const wrong = new URL(postgres.url);
    wrong.password = 'not-the-password';
    const refused = async () => {
      const client = new Client(wrong.toString());
      client.on('error', () => {});
      return client.connect().then(
        () => client.end().then(() => 'connected'),
        (error: { code?: string }) => error.code,
      );
    };
    expect(await refused()).toBe('28P01');
    // The kept connection was not handed out, and still serves the right password.
    expect(await session(postgres.url, (c) => c.query('select 1 as one'))).toMatchObject({
      rows: [{ one: 1 }],
    });
    expect(await refused()).toBe('28P01');
  });

  it('serves a client that sends its password and first query before it is asked, as Neon takes them', async () => {
    expect(postgres.cleartextPassword).toBe(true);
    configureNeon({ wsProxy: proxy.wsProxy, pipelineConnect: 'password' });
    try {
      const question = 'select pg_backend_pid() as pid, 41 + 1 as answer';
      const ask = (c: Client) => c.query(question).then((result) => result.rows[0]);
      // The first may find no kept connection (a new server connection answers the password);
      // the second is served by the kept one (the proxy checks the password itself).
      const first = await session(postgres.url, ask);
      await settled();
      const second = await session(postgres.url, ask);
      expect(first.answer).toBe(42);
      expect(second).toEqual(first);

      const wrong = new URL(postgres.url);
      wrong.password = 'not-the-password';
      const client = new Client(wrong.toString());
      client.on('error', () => {});
      // Pipelined, the connection seems made at once; the refusal comes with the first answer.
      const refused = await client
        .connect()
        .then(() => client.query('select 1'))
        .then(
          () => 'answered',
          (error: { code?: string }) => error.code,
        );
      expect(refused).toBe('28P01');
    } finally {
      configureNeon({ wsProxy: proxy.wsProxy });
    }
  });

  /**
   * The start-up packet for the test database (with `application_name` when given) and the
   * password message, as a pipelining driver sends them before it is asked.
   */
  function startupAndPassword(applicationName?: string): Buffer {
    const url = new URL(postgres.url);
    const params = ['user', url.username, 'database', url.pathname.slice(1)];
    if (applicationName) params.push('application_name', applicationName);
    const body = Buffer.concat([int32(196_608), ...params.map(cstring), Buffer.from([0])]);
    return Buffer.concat([
      int32(body.length + 4),
      body,
      message('p', cstring(decodeURIComponent(url.password))),
    ]);
  }

  /**
   * A client speaking the protocol itself through the proxy, as a pipelining driver does: the
   * start-up, the password and queries in one write. Its messages' types, and each data row's
   * first column.
   */
  function rawClient(applicationName: string, queries: string[]) {
    const socket = new WebSocket(`ws://${proxy.wsProxy}?address=${postgresTarget(postgres.url)}`);
    const received: { type: string; first?: string }[] = [];
    let pending = Buffer.alloc(0);
    const listeners = new Set<() => void>();
    socket.on('message', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
        const size = 1 + pending.readInt32BE(1);
        const type = String.fromCharCode(pending[0]!);
        const body = pending.subarray(5, size);
        const length = type === 'D' ? body.readInt32BE(2) : -1;
        const first = length >= 0 ? body.subarray(6, 6 + length).toString() : undefined;
        received.push({ type, first });
        pending = pending.subarray(size);
      }
      for (const listener of listeners) listener();
    });
    socket.on('open', () =>
      socket.send(
        Buffer.concat([
          startupAndPassword(applicationName),
          ...queries.map((query) => message('Q', cstring(query))),
        ]),
      ),
    );
    /** Resolves once `count` ReadyForQuery messages have come. */
    const readyFor = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (received.filter((m) => m.type === 'Z').length < count) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
      });
    return { socket, received, readyFor };
  }

  it('never passes on a connection whose client left with pipelined queries unanswered', async () => {
    const name = `pipelined-${Date.now()}`;
    // Leaves right after the start-up's ReadyForQuery, its two queries still running.
    const leaving = rawClient(name, ['select pg_sleep(0.3)', 'select pg_sleep(0.3)']);
    await leaving.readyFor(1);
    leaving.socket.close();
    // The first query is done, the second still running on that server connection.
    await new Promise((resolve) => setTimeout(resolve, 450));
    const next = rawClient(name, ['select 42']);
    await next.readyFor(2);
    next.socket.close();
    expect(next.received.filter((m) => m.type === 'D').map((m) => m.first)).toEqual(['42']);
  });
  /**
   * A WebSocket client that never answers a close frame, as a Worker whose request has ended:
   * it sends a start-up, its password and Terminate in one frame, and waits for the proxy to
   * close its socket; the close frames it was sent.
   */
  async function silentClientTerminating() {
    const [hostPort, path] = [proxy.wsProxy.split('/')[0]!, '/v2'];
    const [host, port] = hostPort.split(':') as [string, string];
    const socket = connect(Number(port), host);
    const postgresBytes = Buffer.concat([startupAndPassword(), message('X', Buffer.alloc(0))]);
    // One masked binary frame, as a client must send (payload under 126 bytes).
    const mask = randomBytes(4);
    const frame = Buffer.concat([
      Buffer.from([0x82, 0x80 | postgresBytes.length]),
      mask,
      Buffer.from(postgresBytes.map((byte: number, i: number) => byte ^ mask[i % 4]!)),
    ]);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET ${path}?address=${postgresTarget(postgres.url)} HTTP/1.1\r\nHost: ${hostPort}\r\n` +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    );
    await expect.poll(() => received.includes('\r\n\r\n')).toBe(true);
    expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 101/);
    received = received.subarray(received.indexOf('\r\n\r\n') + 4);
    socket.write(frame);
    await new Promise((resolve) => socket.once('close', resolve));
    return { closeFrames: framesOf(received).filter((opcode) => opcode === 0x8).length };
  }

  /** The opcodes of the unmasked server frames in `bytes`. */
  function framesOf(bytes: Buffer): number[] {
    const opcodes: number[] = [];
    let offset = 0;
    while (offset + 2 <= bytes.length) {
      let length = bytes[offset + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        length = bytes.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        length = Number(bytes.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (offset + header + length > bytes.length) break;
      opcodes.push(bytes[offset]! & 0x0f);
      offset += header + length;
    }
    return opcodes;
  }

  it('closes the socket of a client that said Terminate and never answers the close handshake', async () => {
    // `ws` alone waits 30 s for the answer: under load that held some 2,000 sockets at once.
    expect(await silentClientTerminating()).toEqual({ closeFrames: 1 });
  }, 10_000);
});
