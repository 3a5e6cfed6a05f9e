import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { IDEMPOTENCY_LEASE_MS, requestFingerprint } from '../../core/idempotency';
import { idempotencyKeys, workspaces } from '../../db/schema';
import { authed, newUser, PASSWORD, postJson } from './auth-helpers';
import { fetchWorker, runScheduled, testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

function createWorkspace(token: string, key: string | undefined, body: Record<string, string>) {
  return postJson('/api/workspaces', body, {
    authorization: `Bearer ${token}`,
    ...(key === undefined ? {} : { 'idempotency-key': key }),
  });
}

function workspaceBody() {
  const slug = `idem-${crypto.randomUUID().slice(0, 8)}`;
  return { name: 'Acme', slug };
}

async function workspacesWithSlug(slug: string) {
  return db.select().from(workspaces).where(eq(workspaces.slug, slug));
}

async function userScope(token: string) {
  const me = await (await fetchWorker('/api/me', authed(token))).json<{ id: string }>();
  return `user:${me.id}`;
}

async function keyRow(scope: string, key: string) {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
  return row;
}

async function errorCode(response: Response) {
  return (await response.json<{ error: { code: string } }>()).error.code;
}

describe('Idempotency-Key', () => {
  it('replays the first response byte for byte and runs the change once', async () => {
    const { access_token } = await newUser('idem');
    const key = crypto.randomUUID();
    const body = workspaceBody();

    const first = await createWorkspace(access_token, key, body);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstText = await first.text();

    const retry = await createWorkspace(access_token, key, body);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(await retry.text()).toBe(firstText);
    expect(retry.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));

    expect(await workspacesWithSlug(body.slug)).toHaveLength(1);
  });

  it('replays a definite failure too (a 409 stays a 409)', async () => {
    const { access_token } = await newUser('idem');
    const body = workspaceBody();
    expect((await createWorkspace(access_token, undefined, body)).status).toBe(201);
    const key = crypto.randomUUID();
    const conflict = await createWorkspace(access_token, key, body);
    expect(conflict.status).toBe(409);
    const replay = await createWorkspace(access_token, key, body);
    expect(replay.status).toBe(409);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.text()).toBe(await conflict.text());
  });

  it('refuses the same key with a different body with 422', async () => {
    const { access_token } = await newUser('idem');
    const key = crypto.randomUUID();
    expect((await createWorkspace(access_token, key, workspaceBody())).status).toBe(201);
    const other = workspaceBody();
    const mismatch = await createWorkspace(access_token, key, other);
    expect(mismatch.status).toBe(422);
    expect(await errorCode(mismatch)).toBe('idempotency_key_mismatch');
    expect(await workspacesWithSlug(other.slug)).toHaveLength(0);
  });

  it('answers a duplicate that arrives while the first is still running with 409 and Retry-After', async () => {
    const { access_token } = await newUser('idem');
    const key = crypto.randomUUID();
    const body = workspaceBody();
    await db.insert(idempotencyKeys).values({
      scope: await userScope(access_token),
      key,
      requestHash: await requestFingerprint(
        env.ENCRYPTION_KEY,
        'POST',
        '/api/workspaces',
        new TextEncoder().encode(JSON.stringify(body)).buffer as ArrayBuffer,
      ),
      expiresAt: new Date(Date.now() + 60_000),
    });
    const duplicate = await createWorkspace(access_token, key, body);
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get('retry-after')).toBe('1');
    expect(await errorCode(duplicate)).toBe('idempotency_in_progress');
    expect(await workspacesWithSlug(body.slug)).toHaveLength(0);
  });

  it('lets two concurrent requests with one key create one workspace', async () => {
    const { access_token } = await newUser('idem');
    const key = crypto.randomUUID();
    const body = workspaceBody();
    const responses = await Promise.all([
      createWorkspace(access_token, key, body),
      createWorkspace(access_token, key, body),
    ]);
    const statuses = responses.map((response) => response.status).sort();
    // Either the second waited its turn and was replayed, or it arrived mid-flight and got 409.
    expect([
      [201, 201],
      [201, 409],
    ]).toContainEqual(statuses);
    expect(await workspacesWithSlug(body.slug)).toHaveLength(1);
  });

  it('takes over a key whose request died, and one that expired', async () => {
    const { access_token } = await newUser('idem');
    const scope = await userScope(access_token);
    const stale = crypto.randomUUID();
    const expired = crypto.randomUUID();
    await db.insert(idempotencyKeys).values([
      {
        scope,
        key: stale,
        requestHash: 'a request that never finished',
        createdAt: new Date(Date.now() - IDEMPOTENCY_LEASE_MS - 1_000),
        expiresAt: new Date(Date.now() + 60_000),
      },
      {
        scope,
        key: expired,
        requestHash: 'yesterday',
        status: 'completed',
        responseStatus: 201,
        responseBody: '{}',
        expiresAt: new Date(Date.now() - 1_000),
      },
    ]);
    for (const key of [stale, expired]) {
      const response = await createWorkspace(access_token, key, workspaceBody());
      expect(response.status).toBe(201);
      expect(response.headers.get('idempotent-replayed')).toBeNull();
      expect((await keyRow(scope, key))?.status).toBe('completed');
    }
  });

  it('keeps keys apart per caller', async () => {
    const alice = await newUser('alice');
    const bob = await newUser('bob');
    const key = crypto.randomUUID();
    expect((await createWorkspace(alice.access_token, key, workspaceBody())).status).toBe(201);
    const bobs = await createWorkspace(bob.access_token, key, workspaceBody());
    expect(bobs.status).toBe(201);
    expect(bobs.headers.get('idempotent-replayed')).toBeNull();
  });

  it('refuses a key that is empty, too long or holds a control character with 400', async () => {
    const { access_token } = await newUser('idem');
    for (const key of ['', 'k'.repeat(256), 'tab\there']) {
      const response = await createWorkspace(access_token, key, workspaceBody());
      expect(response.status, JSON.stringify(key)).toBe(400);
    }
  });

  it('never stores credential responses: a login retried with a key signs in afresh', async () => {
    const { email } = await newUser('idem');
    const key = crypto.randomUUID();
    const login = () =>
      postJson('/api/auth/login', { email, password: PASSWORD }, { 'idempotency-key': key });
    const first = await (await login()).json<{ refresh_token: string }>();
    const second = await login();
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect((await second.json<{ refresh_token: string }>()).refresh_token).not.toBe(
      first.refresh_token,
    );
    expect(await db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key))).toEqual([]);
  });

  it('has the cron delete expired keys and keep live ones', async () => {
    const scope = `test:${crypto.randomUUID()}`;
    await db.insert(idempotencyKeys).values([
      { scope, key: 'old', requestHash: 'x', expiresAt: new Date(Date.now() - 1_000) },
      { scope, key: 'live', requestHash: 'x', expiresAt: new Date(Date.now() + 60_000) },
    ]);
    await runScheduled();
    expect(await keyRow(scope, 'old')).toBeUndefined();
    expect(await keyRow(scope, 'live')).toBeDefined();
  });
});
