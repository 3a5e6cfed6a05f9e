import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/digest';
import { apiTokens, auditLogs, users } from '../../db/schema';
import { anonymous, as, type ErrorEnvelope, join } from './api-client';
import { createWorkspace, mailedToken, newUser } from './auth-helpers';
import { testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

type User = Awaited<ReturnType<typeof newUser>>;

async function idOf(user: User) {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.email, user.email));
  return row!.id;
}

async function auditActions(workspaceId: string) {
  const rows = await db
    .select({ action: auditLogs.action })
    .from(auditLogs)
    .where(eq(auditLogs.workspaceId, workspaceId));
  return rows.map((row) => row.action).sort();
}

describe('invitations', () => {
  it('invites by email; the invitee accepts once and becomes a member with that role', async () => {
    const owner = await newUser('owner');
    const dev = await newUser('dev');
    const workspace = await createWorkspace(owner.access_token);
    const token = await join(workspace.id, owner, dev, 'developer');

    const listed = await as(dev).get<{ members: { email: string; role: string }[] }>(
      `/api/workspaces/${workspace.id}/members`,
    );
    const { members } = listed.body;
    expect(members).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ email: owner.email, role: 'owner' }),
        expect.objectContaining({ email: dev.email, role: 'developer' }),
      ]),
    );
    const again = await as(dev).post('/api/invites/accept', { token });
    expect(again.status).toBe(400);
    expect(await auditActions(workspace.id)).toEqual([
      'member.invited',
      'member.joined',
      'workspace.created',
    ]);
  });

  it('refuses an invitation used by someone it was not sent to', async () => {
    const owner = await newUser('owner');
    const invitee = await newUser('invitee');
    const other = await newUser('other');
    const workspace = await createWorkspace(owner.access_token);
    await as(owner).post(`/api/workspaces/${workspace.id}/invites`, {
      email: invitee.email,
      role: 'viewer',
    });
    const token = await mailedToken(invitee.email, /invited/);
    const response = await as(other).post('/api/invites/accept', { token });
    expect(response.status).toBe(400);
    expect((await as(other).get(`/api/workspaces/${workspace.id}`)).status).toBe(404);
  });

  it('lets only admins invite, never as owner, and hides the workspace from strangers', async () => {
    const owner = await newUser('owner');
    const viewer = await newUser('viewer');
    const stranger = await newUser('stranger');
    const workspace = await createWorkspace(owner.access_token);
    await join(workspace.id, owner, viewer, 'viewer');
    const path = `/api/workspaces/${workspace.id}/invites`;

    expect((await as(viewer).post(path, { email: 'x@example.com' })).status).toBe(403);
    expect((await as(stranger).post(path, { email: 'x@example.com' })).status).toBe(404);
    const asOwner = await as(owner).post(path, { email: 'x@example.com', role: 'owner' });
    expect(asOwner.status).toBe(403);
    const badEmail = await as(owner).post(path, { email: 'not-an-email' });
    expect(badEmail.status).toBe(400);
    const member = await as(owner).post(path, { email: viewer.email });
    expect(member.status).toBe(409);

    const pending = await as(owner).post<{ id: string }>(path, { email: 'later@example.com' });
    const { id } = pending.body;
    const list = await as(owner).get<{ invites: { id: string }[] }>(path);
    expect(list.body.invites.map((i) => i.id)).toEqual([id]);
    expect((await as(owner).delete(`${path}/${id}`)).status).toBe(200);
    expect((await as(owner).delete(`${path}/${id}`)).status).toBe(404);
  });
});

describe('roles, removal, transfer and leaving', () => {
  it('lets an admin change roles below owner but not touch an owner', async () => {
    const owner = await newUser('owner');
    const admin = await newUser('admin');
    const viewer = await newUser('viewer');
    const workspace = await createWorkspace(owner.access_token);
    await join(workspace.id, owner, admin, 'admin');
    await join(workspace.id, owner, viewer, 'viewer');
    const members = `/api/workspaces/${workspace.id}/members`;

    const promoted = await as(admin).patch(`${members}/${await idOf(viewer)}`, {
      role: 'developer',
    });
    expect(promoted.status).toBe(200);
    const demoteOwner = await as(admin).patch(`${members}/${await idOf(owner)}`, {
      role: 'viewer',
    });
    expect(demoteOwner.status).toBe(403);
    const byDeveloper = await as(viewer).patch(`${members}/${await idOf(admin)}`, {
      role: 'viewer',
    });
    expect(byDeveloper.status).toBe(403);
    const unknown = await as(admin).patch(`${members}/${crypto.randomUUID()}`, {
      role: 'viewer',
    });
    expect(unknown.status).toBe(404);
    const badRole = await as(admin).patch(`${members}/${await idOf(viewer)}`, {
      role: 'emperor',
    });
    expect(badRole.status).toBe(400);

    const [row] = await db
      .select()
      .from(auditLogs)
      .where(
        and(eq(auditLogs.workspaceId, workspace.id), eq(auditLogs.action, 'member.role_changed')),
      );
    expect(row).toMatchObject({
      actorRole: 'admin',
      targetId: await idOf(viewer),
      metadata: { from: 'viewer', to: 'developer' },
    });
  });

  it('never lets the last owner be demoted or leave', async () => {
    const owner = await newUser('owner');
    const workspace = await createWorkspace(owner.access_token);
    const demote = await as(owner).patch(
      `/api/workspaces/${workspace.id}/members/${await idOf(owner)}`,
      {
        role: 'admin',
      },
    );
    expect(demote.status).toBe(409);
    const leave = await as(owner).post<ErrorEnvelope>(`/api/workspaces/${workspace.id}/leave`);
    expect(leave.status).toBe(409);
    expect(leave.body.error.code).toBe('conflict');
  });

  it('transfers ownership: the new owner owns it, the old one stays as admin and may leave', async () => {
    const owner = await newUser('owner');
    const heir = await newUser('heir');
    const workspace = await createWorkspace(owner.access_token);
    await join(workspace.id, owner, heir, 'developer');
    const path = `/api/workspaces/${workspace.id}`;

    expect((await as(heir).post(`${path}/transfer`, { user_id: await idOf(owner) })).status).toBe(
      403,
    );
    const stranger = await as(owner).post(`${path}/transfer`, {
      user_id: crypto.randomUUID(),
    });
    expect(stranger.status).toBe(404);
    expect((await as(owner).post(`${path}/transfer`, { user_id: await idOf(heir) })).status).toBe(
      200,
    );

    expect((await as(heir).get<{ role: string }>(path)).body.role).toBe('owner');
    expect((await as(owner).get<{ role: string }>(path)).body.role).toBe('admin');
    expect((await as(heir).post(`${path}/leave`)).status).toBe(409);
    expect((await as(owner).post(`${path}/leave`)).status).toBe(200);
    expect((await as(owner).get(path)).status).toBe(404);
  });

  it('removes a member and revokes their API tokens for the workspace', async () => {
    const owner = await newUser('owner');
    const dev = await newUser('dev');
    const workspace = await createWorkspace(owner.access_token);
    await join(workspace.id, owner, dev, 'developer');
    const secret = `spk_pat_${crypto.randomUUID()}`;
    await db.insert(apiTokens).values({
      userId: await idOf(dev),
      workspaceId: workspace.id,
      name: 'ci',
      prefix: secret.slice(0, 12),
      tokenHash: await sha256Hex(secret),
      scopes: ['read'],
    });
    const viaToken = () => as(secret).get(`/api/workspaces/${workspace.id}`);
    expect((await viaToken()).status).toBe(200);

    const self = await as(owner).delete(
      `/api/workspaces/${workspace.id}/members/${await idOf(owner)}`,
    );
    expect(self.status).toBe(400);
    const removed = await as(owner).delete(
      `/api/workspaces/${workspace.id}/members/${await idOf(dev)}`,
    );
    expect(removed.status).toBe(200);
    expect((await as(dev).get(`/api/workspaces/${workspace.id}`)).status).toBe(404);
    expect((await viaToken()).status).toBe(401);
    expect((await auditActions(workspace.id)).filter((a) => a === 'member.removed')).toHaveLength(
      1,
    );
  });
});

interface AuditPage {
  entries: { action: string; actor_email: string | null; request_id: string | null }[];
  next_cursor: string | null;
}

describe('audit log', () => {
  async function busyWorkspace() {
    const owner = await newUser('owner');
    const workspace = await createWorkspace(owner.access_token);
    for (let i = 0; i < 5; i++) {
      const response = await as(owner).patch(`/api/workspaces/${workspace.id}`, {
        name: `Name ${i}`,
      });
      expect(response.status).toBe(200);
    }
    return { owner, workspace, path: `/api/workspaces/${workspace.id}/audit-log` };
  }

  it('pages through every entry newest first with a cursor, no gaps or repeats', async () => {
    const { owner, path } = await busyWorkspace();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const response = await as(owner).get<AuditPage>(`${path}${query}`);
      expect(response.status).toBe(200);
      const page = response.body;
      seen.push(...page.entries.map((entry) => entry.action));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...Array(5).fill('workspace.updated'), 'workspace.created']);
  });

  it('filters by action and carries actor and request id', async () => {
    const { owner, path } = await busyWorkspace();
    const response = await as(owner).get<AuditPage>(`${path}?action=workspace.created`);
    const page = response.body;
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0]).toMatchObject({
      action: 'workspace.created',
      actor_email: owner.email,
    });
    expect(page.entries[0]?.request_id).toBeTruthy();
    expect(page.next_cursor).toBeNull();
  });

  it('exports CSV', async () => {
    const { owner, path } = await busyWorkspace();
    const response = await as(owner).get(`${path}?format=csv&limit=3`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('x-next-cursor')).toBeTruthy();
    const lines = response.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'id,created_at,actor_id,actor_email,actor_role,action,target_type,target_id,result,ip,user_agent,request_id,metadata',
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(`,${owner.email},owner,workspace.updated,workspace,`);
  });

  it('is for admins and owners only, invisible to strangers, and rejects a forged cursor', async () => {
    const { owner, workspace, path } = await busyWorkspace();
    const dev = await newUser('dev');
    const stranger = await newUser('stranger');
    await join(workspace.id, owner, dev, 'developer');
    expect((await as(dev).get(path)).status).toBe(403);
    expect((await as(stranger).get(path)).status).toBe(404);
    const forged = await as(owner).get(`${path}?cursor=not-a-cursor`);
    expect(forged.status).toBe(400);
    expect((await as(owner).get(`${path}?limit=0`)).status).toBe(400);
  });

  it('offers no way to change or delete entries', async () => {
    const { owner, path } = await busyWorkspace();
    expect((await as(owner).delete(path)).status).toBe(404);
    expect((await as(owner).patch(path, {})).status).toBe(404);
  });
});

describe('unauthenticated', () => {
  it('answers 401 for membership routes without a session', async () => {
    expect((await anonymous.post('/api/invites/accept', { token: 'x' })).status).toBe(401);
  });
});
