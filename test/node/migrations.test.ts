import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../db/client';
import { migrateDatabase } from '../../db/migrate';
import { type NeonProxyHandle, postgresTarget, startNeonProxy } from '../../dev/neon-proxy';
import { type PostgresHandle, startEmbeddedPostgres } from '../../dev/postgres';

const EXPECTED_TABLES = [
  'api_tokens',
  'audit_logs',
  'blob_proofs',
  'build_spans',
  'build_steps',
  'builds',
  'deployment_transitions',
  'deployments',
  'device_grants',
  'domains',
  'email_tokens',
  'environments',
  'github_app_repositories',
  'github_apps',
  'idempotency_keys',
  'identities',
  'invites',
  'memberships',
  'mfa_challenges',
  'notification_deliveries',
  'notification_targets',
  'outbox',
  'packed_blobs',
  'pipelines',
  'polled_heads',
  'project_git_hooks',
  'projects',
  'recovery_codes',
  'refresh_tokens',
  'runner_registration_tokens',
  'runners',
  'sessions',
  'users',
  'webhook_deliveries',
  'workspaces',
  'ws_tickets',
];

/**
 * An empty database of our own: a fresh database on the server in DATABASE_URL when one is set,
 * else a fresh in-memory embedded Postgres.
 */
async function emptyDatabase(): Promise<{ url: string; dispose(): Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const postgres: PostgresHandle = await startEmbeddedPostgres();
    return { url: postgres.url, dispose: () => postgres.stop() };
  }
  const name = `sparki_migrations_${crypto.randomUUID().replaceAll('-', '')}`;
  const admin = await startNeonProxy({ allowedTargets: [postgresTarget(serverUrl)] });
  const { db, pool } = createDb(serverUrl, { wsProxy: admin.wsProxy });
  await db.execute(sql.raw(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async dispose() {
      await db.execute(sql.raw(`drop database if exists ${name} with (force)`));
      await pool.end();
      await admin.close();
    },
  };
}

describe('migrations', () => {
  let database: { url: string; dispose(): Promise<void> };
  let proxy: NeonProxyHandle;

  beforeAll(async () => {
    database = await emptyDatabase();
    proxy = await startNeonProxy({ allowedTargets: [postgresTarget(database.url)] });
  });
  afterAll(async () => {
    await proxy.close();
    await database.dispose();
  });

  async function tables() {
    const { db, pool } = createDb(database.url, { wsProxy: proxy.wsProxy });
    try {
      const result = await db.execute<{ table_name: string }>(
        sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
      );
      return result.rows.map((row) => row.table_name);
    } finally {
      await pool.end();
    }
  }

  it('apply to an empty database, and again as a no-op', async () => {
    expect(await tables()).toEqual([]);
    await migrateDatabase(database.url, { wsProxy: proxy.wsProxy });
    expect(await tables()).toEqual(EXPECTED_TABLES);
    await migrateDatabase(database.url, { wsProxy: proxy.wsProxy });
    expect(await tables()).toEqual(EXPECTED_TABLES);
  });

  it('enforce statuses and webhook delivery dedupe in Postgres itself', async () => {
    const { db, pool } = createDb(database.url, { wsProxy: proxy.wsProxy });
    try {
      await expect(
        db.execute(sql`insert into workspaces (name, slug, plan) values ('a', 'a', 'gold')`),
      ).rejects.toThrow();
      await db.execute(sql`insert into workspaces (name, slug) values ('w', 'w')`);
      await db.execute(sql`insert into projects (workspace_id, name, slug)
        select id, p, p from workspaces, (values ('p1'), ('p2')) as names(p) where slug = 'w'`);
      const delivery = (project: string) =>
        sql`insert into webhook_deliveries (provider, delivery_id, event, payload_sha256, project_id)
          select 'github', 'd-1', 'push', 'x', id from projects where slug = ${project}
          on conflict do nothing`;
      await db.execute(delivery('p1'));
      await db.execute(delivery('p1'));
      // One GitHub event reaches every hook of its repository under the same delivery id.
      await db.execute(delivery('p2'));
      const count = await db.execute<{ n: number }>(
        sql`select count(*)::int as n from webhook_deliveries where delivery_id = 'd-1'`,
      );
      expect(count.rows[0]?.n).toBe(2);
    } finally {
      await pool.end();
    }
  });
});
