import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLogs, memberships, users } from '../../db/schema';
import { authed, createWorkspace, newUser, postJson } from './auth-helpers';
import { fetchWorker, testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function userId(email: string) {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
  return row!.id;
}

function rename(token: string, id: string, name: string) {
  return fetchWorker(
    `/api/workspaces/${id}`,
    authed(token, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    }),
  );
}

describe('workspaces and roles', () => {
  it('makes the creator owner and refuses a taken slug with 409', async () => {
    const owner = await newUser('owner');
    const workspace = await createWorkspace(owner.access_token);
    expect(workspace.role).toBe('owner');
    const again = await postJson(
      '/api/workspaces',
      { name: 'Other', slug: workspace.slug },
      { authorization: `Bearer ${owner.access_token}` },
    );
    expect(again.status).toBe(409);
  });

  it('lets an admin change settings, refuses a viewer with 403 and a stranger with 404', async () => {
    const owner = await newUser('owner');
    const viewer = await newUser('viewer');
    const stranger = await newUser('stranger');
    const workspace = await createWorkspace(owner.access_token);
    await db
      .insert(memberships)
      .values({ workspaceId: workspace.id, userId: await userId(viewer.email), role: 'viewer' });

    expect(
      (await fetchWorker(`/api/workspaces/${workspace.id}`, authed(viewer.access_token))).status,
    ).toBe(200);
    const denied = await rename(viewer.access_token, workspace.id, 'Hijacked');
    expect(denied.status).toBe(403);
    expect((await denied.json<{ error: { code: string } }>()).error.code).toBe('forbidden');

    const hidden = await fetchWorker(
      `/api/workspaces/${workspace.id}`,
      authed(stranger.access_token),
    );
    expect(hidden.status).toBe(404);
    const hiddenWrite = await rename(stranger.access_token, workspace.id, 'Hijacked');
    expect(hiddenWrite.status).toBe(404);
    // Same answer as for a workspace that does not exist at all.
    const missing = await fetchWorker(
      `/api/workspaces/${crypto.randomUUID()}`,
      authed(stranger.access_token),
    );
    expect(await missing.json<{ error: unknown }>()).toMatchObject({
      error: { code: 'not_found' },
    });

    expect((await rename(owner.access_token, workspace.id, 'Acme Inc')).status).toBe(200);
  });

  it('lists only your own workspaces', async () => {
    const alice = await newUser('alice');
    const bob = await newUser('bob');
    const mine = await createWorkspace(alice.access_token);
    await createWorkspace(bob.access_token);
    const listed = await fetchWorker('/api/workspaces', authed(alice.access_token));
    const { workspaces } = await listed.json<{ workspaces: { id: string }[] }>();
    expect(workspaces.map((w) => w.id)).toEqual([mine.id]);
  });

  it('writes exactly one audit row per privileged change', async () => {
    const owner = await newUser('owner');
    const workspace = await createWorkspace(owner.access_token);
    await rename(owner.access_token, workspace.id, 'Renamed');
    const rows = await db.select().from(auditLogs).where(eq(auditLogs.workspaceId, workspace.id));
    expect(rows.map((row) => row.action).sort()).toEqual([
      'workspace.created',
      'workspace.updated',
    ]);
    const [updated] = await db
      .select()
      .from(auditLogs)
      .where(
        and(eq(auditLogs.workspaceId, workspace.id), eq(auditLogs.action, 'workspace.updated')),
      );
    expect(updated).toMatchObject({
      actorRole: 'owner',
      result: 'success',
      targetId: workspace.id,
    });
  });

  it('requires authentication', async () => {
    const response = await postJson('/api/workspaces', { name: 'x', slug: 'anon-ws' });
    expect(response.status).toBe(401);
  });
});
