import { Pool } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureNeon } from '../../db/client';
import { type NeonProxyHandle, postgresTarget, startNeonProxy } from '../../dev/neon-proxy';
import { type PostgresHandle, startEmbeddedPostgres } from '../../dev/postgres';

const range = (count: number) => Array.from({ length: count }, (_, i) => i);

// Through the proxy as tests and migrations use it (a connection each), and as the local stack
// runs it (clients sharing pooled server connections).
describe.each([
  { proxy: 'a connection per client', pool: false },
  { proxy: 'pooled connections', pool: true },
])('embedded Postgres with concurrent connections, $proxy', ({ pool: pooling }) => {
  let postgres: PostgresHandle;
  let proxy: NeonProxyHandle;
  let pool: Pool;

  // The package's exit hooks would exit 0 on `beforeExit`, overriding a failed test run's code.
  const EXIT_EVENTS = ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const listenersBefore = new Map(
    EXIT_EVENTS.map((event) => [event, process.listenerCount(event)]),
  );

  beforeAll(async () => {
    postgres = await startEmbeddedPostgres();
    proxy = await startNeonProxy({
      allowedTargets: [postgresTarget(postgres.url)],
      pool: pooling,
    });
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

  it('leaves how the process exits to its owner: no exit or signal hook of its own', () => {
    for (const event of EXIT_EVENTS) {
      expect(process.listenerCount(event), event).toBe(listenersBefore.get(event));
    }
  });

  // A parameter this large crosses the proxy in several frames.
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

  it('lets a transaction wait on another connection’s row lock and go on after its commit', async () => {
    await pool.query("insert into probe (tag, n) values ('locked', 0)");
    const holder = await pool.connect();
    const waiter = await pool.connect();
    try {
      await holder.query('begin');
      await holder.query("update probe set n = n + 1 where tag = 'locked'");
      await waiter.query('begin');
      const waiting = waiter.query("update probe set n = n + 10 where tag = 'locked' returning n");
      // The waiter is blocked on the holder's lock, as Postgres itself reports.
      await expect
        .poll(async () => {
          const { rows } = await pool.query(
            "select count(*)::int as count from pg_stat_activity where wait_event_type = 'Lock'",
          );
          return rows[0].count;
        })
        .toBe(1);
      await holder.query('commit');
      expect((await waiting).rows).toEqual([{ n: 11 }]);
      await waiter.query('commit');
    } finally {
      holder.release();
      waiter.release();
    }
  });

  it('detects a deadlock between two connections and aborts one of them', async () => {
    await pool.query("insert into probe (tag, n) values ('dl-a', 0), ('dl-b', 0)");
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      await first.query('begin');
      await second.query('begin');
      await first.query("update probe set n = 1 where tag = 'dl-a'");
      await second.query("update probe set n = 1 where tag = 'dl-b'");
      const outcomes = await Promise.allSettled([
        first.query("update probe set n = 2 where tag = 'dl-b'"),
        second.query("update probe set n = 2 where tag = 'dl-a'"),
      ]);
      const codes = outcomes.map((o) =>
        o.status === 'rejected' ? (o.reason as { code?: string }).code : 'ok',
      );
      expect(codes.sort()).toEqual(['40P01', 'ok']);
    } finally {
      await first.query('rollback');
      await second.query('rollback');
      first.release();
      second.release();
    }
  });
});
