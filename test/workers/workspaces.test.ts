import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLogs, memberships, users } from '../../db/schema';
import { anonymous, as, type ErrorEnvelope } from './api-client';
import { createWorkspace, newUser } from './auth-helpers';
import { testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function userId(email: string) {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
  return row!.id;
}

function rename(token: string, id: string, name: string) {
  return as(token).patch<ErrorEnvelope>(`/api/workspaces/${id}`, { name });
}

describe('workspaces and roles', () => {
  it('makes the creator owner and refuses a taken slug with 409', async () => {
    const owner = await newUser('owner');
    const workspace = await createWorkspace(owner.access_token);
    expect(workspace.role).toBe('owner');
    const again = await as(owner).post('/api/workspaces', { name: 'Other', slug: workspace.slug });
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

    expect((await as(viewer).get(`/api/workspaces/${workspace.id}`)).status).toBe(200);
    const denied = await rename(viewer.access_token, workspace.id, 'Hijacked');
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('forbidden');

    const hidden = await as(stranger).get(`/api/workspaces/${workspace.id}`);
    expect(hidden.status).toBe(404);
    const hiddenWrite = await rename(stranger.access_token, workspace.id, 'Hijacked');
    expect(hiddenWrite.status).toBe(404);
    // Same answer as for a workspace that does not exist at all.
    const missing = await as(stranger).get(`/api/workspaces/${crypto.randomUUID()}`);
    expect(missing.body).toMatchObject({
      error: { code: 'not_found' },
    });

    expect((await rename(owner.access_token, workspace.id, 'Acme Inc')).status).toBe(200);
  });

  it('lists only your own workspaces', async () => {
    const alice = await newUser('alice');
    const bob = await newUser('bob');
    const mine = await createWorkspace(alice.access_token);
    await createWorkspace(bob.access_token);
    const listed = await as(alice).get<{ workspaces: { id: string }[] }>('/api/workspaces');
    const { workspaces } = listed.body;
    expect(workspaces.map((w) => w.id)).toEqual([mine.id]);
  });

  it('shows an API token only its own workspace, with the role its scope allows', async () => {
    const carol = await newUser('carol');
    const first = await createWorkspace(carol.access_token);
    await createWorkspace(carol.access_token);
    const pat = await as(carol).post<{ token: string }>('/api/me/tokens', {
      name: 'ci',
      workspace_id: first.id,
      scope: 'read',
    });
    expect(pat.status, pat.text).toBe(201);
    const listed = await as(pat.body.token).get<{ workspaces: { id: string; role: string }[] }>(
      '/api/workspaces',
    );
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.workspaces).toEqual([
      expect.objectContaining({ id: first.id, role: 'viewer' }),
    ]);
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
    const response = await anonymous.post('/api/workspaces', { name: 'x', slug: 'anon-ws' });
    expect(response.status).toBe(401);
  });
});
