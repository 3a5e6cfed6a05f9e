import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/digest';
import { apiTokens, auditLogs, users } from '../../db/schema';
import { authed, createWorkspace, mailedToken, newUser, postJson } from './auth-helpers';
import { fetchWorker, testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

type User = Awaited<ReturnType<typeof newUser>>;

function send(user: User, method: string, path: string, body?: unknown) {
  return fetchWorker(
    path,
    authed(user.access_token, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    }),
  );
}

async function idOf(user: User) {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.email, user.email));
  return row!.id;
}

async function errorCode(response: Response) {
  return (await response.json<{ error: { code: string } }>()).error.code;
}

/** Invites `invitee` with `role` and has them accept the mailed link. */
async function join(workspaceId: string, inviter: User, invitee: User, role: string) {
  const invited = await send(inviter, 'POST', `/api/workspaces/${workspaceId}/invites`, {
    email: invitee.email,
    role,
  });
  expect(invited.status, await invited.clone().text()).toBe(201);
  const token = await mailedToken(invitee.email, /invited/);
  const accepted = await send(invitee, 'POST', '/api/invites/accept', { token });
  expect(accepted.status, await accepted.clone().text()).toBe(200);
  return token;
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

    const listed = await send(dev, 'GET', `/api/workspaces/${workspace.id}/members`);
    const { members } = await listed.json<{ members: { email: string; role: string }[] }>();
    expect(members).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ email: owner.email, role: 'owner' }),
        expect.objectContaining({ email: dev.email, role: 'developer' }),
      ]),
    );
    const again = await send(dev, 'POST', '/api/invites/accept', { token });
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
    await send(owner, 'POST', `/api/workspaces/${workspace.id}/invites`, {
      email: invitee.email,
      role: 'viewer',
    });
    const token = await mailedToken(invitee.email, /invited/);
    const response = await send(other, 'POST', '/api/invites/accept', { token });
    expect(response.status).toBe(400);
    expect((await send(other, 'GET', `/api/workspaces/${workspace.id}`)).status).toBe(404);
  });

  it('lets only admins invite, never as owner, and hides the workspace from strangers', async () => {
    const owner = await newUser('owner');
    const viewer = await newUser('viewer');
    const stranger = await newUser('stranger');
    const workspace = await createWorkspace(owner.access_token);
    await join(workspace.id, owner, viewer, 'viewer');
    const path = `/api/workspaces/${workspace.id}/invites`;

    expect((await send(viewer, 'POST', path, { email: 'x@example.com' })).status).toBe(403);
    expect((await send(stranger, 'POST', path, { email: 'x@example.com' })).status).toBe(404);
    const asOwner = await send(owner, 'POST', path, { email: 'x@example.com', role: 'owner' });
    expect(asOwner.status).toBe(403);
    const badEmail = await send(owner, 'POST', path, { email: 'not-an-email' });
    expect(badEmail.status).toBe(400);
    const member = await send(owner, 'POST', path, { email: viewer.email });
    expect(member.status).toBe(409);

    const pending = await send(owner, 'POST', path, { email: 'later@example.com' });
    const { id } = await pending.json<{ id: string }>();
    const list = await send(owner, 'GET', path);
    expect((await list.json<{ invites: { id: string }[] }>()).invites.map((i) => i.id)).toEqual([
      id,
    ]);
    expect((await send(owner, 'DELETE', `${path}/${id}`)).status).toBe(200);
    expect((await send(owner, 'DELETE', `${path}/${id}`)).status).toBe(404);
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

    const promoted = await send(admin, 'PATCH', `${members}/${await idOf(viewer)}`, {
      role: 'developer',
    });
    expect(promoted.status).toBe(200);
    const demoteOwner = await send(admin, 'PATCH', `${members}/${await idOf(owner)}`, {
      role: 'viewer',
    });
    expect(demoteOwner.status).toBe(403);
    const byDeveloper = await send(viewer, 'PATCH', `${members}/${await idOf(admin)}`, {
      role: 'viewer',
    });
    expect(byDeveloper.status).toBe(403);
    const unknown = await send(admin, 'PATCH', `${members}/${crypto.randomUUID()}`, {
      role: 'viewer',
    });
    expect(unknown.status).toBe(404);
    const badRole = await send(admin, 'PATCH', `${members}/${await idOf(viewer)}`, {
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
    const demote = await send(
      owner,
      'PATCH',
      `/api/workspaces/${workspace.id}/members/${await idOf(owner)}`,
      {
        role: 'admin',
      },
    );
    expect(demote.status).toBe(409);
    const leave = await send(owner, 'POST', `/api/workspaces/${workspace.id}/leave`);
    expect(leave.status).toBe(409);
    expect(await errorCode(leave)).toBe('conflict');
  });

  it('transfers ownership: the new owner owns it, the old one stays as admin and may leave', async () => {
    const owner = await newUser('owner');
    const heir = await newUser('heir');
    const workspace = await createWorkspace(owner.access_token);
    await join(workspace.id, owner, heir, 'developer');
    const path = `/api/workspaces/${workspace.id}`;

    expect(
      (await send(heir, 'POST', `${path}/transfer`, { user_id: await idOf(owner) })).status,
    ).toBe(403);
    const stranger = await send(owner, 'POST', `${path}/transfer`, {
      user_id: crypto.randomUUID(),
    });
    expect(stranger.status).toBe(404);
    expect(
      (await send(owner, 'POST', `${path}/transfer`, { user_id: await idOf(heir) })).status,
    ).toBe(200);

    expect((await (await send(heir, 'GET', path)).json<{ role: string }>()).role).toBe('owner');
    expect((await (await send(owner, 'GET', path)).json<{ role: string }>()).role).toBe('admin');
    expect((await send(heir, 'POST', `${path}/leave`)).status).toBe(409);
    expect((await send(owner, 'POST', `${path}/leave`)).status).toBe(200);
    expect((await send(owner, 'GET', path)).status).toBe(404);
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
    const viaToken = () =>
      fetchWorker(`/api/workspaces/${workspace.id}`, {
        headers: { authorization: `Bearer ${secret}` },
      });
    expect((await viaToken()).status).toBe(200);

    const self = await send(
      owner,
      'DELETE',
      `/api/workspaces/${workspace.id}/members/${await idOf(owner)}`,
    );
    expect(self.status).toBe(400);
    const removed = await send(
      owner,
      'DELETE',
      `/api/workspaces/${workspace.id}/members/${await idOf(dev)}`,
    );
    expect(removed.status).toBe(200);
    expect((await send(dev, 'GET', `/api/workspaces/${workspace.id}`)).status).toBe(404);
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
      const response = await send(owner, 'PATCH', `/api/workspaces/${workspace.id}`, {
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
      const response = await send(owner, 'GET', `${path}${query}`);
      expect(response.status).toBe(200);
      const page = await response.json<AuditPage>();
      seen.push(...page.entries.map((entry) => entry.action));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...Array(5).fill('workspace.updated'), 'workspace.created']);
  });

  it('filters by action and carries actor and request id', async () => {
    const { owner, path } = await busyWorkspace();
    const response = await send(owner, 'GET', `${path}?action=workspace.created`);
    const page = await response.json<AuditPage>();
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
    const response = await send(owner, 'GET', `${path}?format=csv&limit=3`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('x-next-cursor')).toBeTruthy();
    const lines = (await response.text()).trimEnd().split('\r\n');
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
    expect((await send(dev, 'GET', path)).status).toBe(403);
    expect((await send(stranger, 'GET', path)).status).toBe(404);
    const forged = await send(owner, 'GET', `${path}?cursor=not-a-cursor`);
    expect(forged.status).toBe(400);
    expect((await send(owner, 'GET', `${path}?limit=0`)).status).toBe(400);
  });

  it('offers no way to change or delete entries', async () => {
    const { owner, path } = await busyWorkspace();
    expect((await send(owner, 'DELETE', path)).status).toBe(404);
    expect((await send(owner, 'PATCH', path, {})).status).toBe(404);
  });
});

describe('unauthenticated', () => {
  it('answers 401 for membership routes without a session', async () => {
    expect((await postJson('/api/invites/accept', { token: 'x' })).status).toBe(401);
  });
});
