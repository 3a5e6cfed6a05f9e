import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { apiTokens, auditLogs, idempotencyKeys, memberships, users } from '../../db/schema';
import { as } from './api-client';
import { createWorkspace, newUser } from './auth-helpers';
import { testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface CreatedToken {
  id: string;
  token: string;
  prefix: string;
  scope: string;
  workspace_id: string;
  expires_at: string;
  last_used_at: string | null;
  revoked: boolean;
}

function createToken(sessionToken: string, body: Record<string, unknown>) {
  return as(sessionToken).post<CreatedToken>('/api/me/tokens', { name: 'cli', ...body });
}

async function mint(sessionToken: string, workspaceId: string, scope: string) {
  const response = await createToken(sessionToken, { workspace_id: workspaceId, scope });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

async function listTokens(sessionToken: string) {
  const response = await as(sessionToken).get<{ tokens: CreatedToken[] }>('/api/me/tokens');
  expect(response.status).toBe(200);
  return { text: response.text, ...response.body };
}

function rename(token: string, workspaceId: string) {
  return as(token).patch(`/api/workspaces/${workspaceId}`, { name: 'Renamed' });
}

async function userIdOf(email: string) {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
  return row!.id;
}

describe('personal access tokens', () => {
  it('are shown once, stored hashed, and authenticate API calls within their scope', async () => {
    const owner = await newUser('pat');
    const workspace = await createWorkspace(owner.access_token);
    const response = await createToken(owner.access_token, {
      workspace_id: workspace.id,
      scope: 'read',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const created = response.body;
    expect(created.token).toMatch(/^spk_pat_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.token.slice(0, 14));
    expect(created).toMatchObject({ scope: 'read', workspace_id: workspace.id, revoked: false });
    const days = (Date.parse(created.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);

    const [stored] = await db.select().from(apiTokens).where(eq(apiTokens.id, created.id));
    expect(stored!.tokenHash).not.toContain(created.token);
    expect(stored!.lastUsedAt).toBeNull();

    const read = await as(created.token).get(`/api/workspaces/${workspace.id}`);
    expect(read.status).toBe(200);
    // An owner's read token acts as a viewer.
    expect(read.body).toMatchObject({ id: workspace.id, role: 'viewer' });
    expect((await rename(created.token, workspace.id)).status).toBe(403);

    const admin = await mint(owner.access_token, workspace.id, 'admin');
    expect((await rename(admin.token, workspace.id)).status).toBe(200);

    const { tokens, text } = await listTokens(owner.access_token);
    expect(tokens.map((t) => t.id).sort()).toEqual([created.id, admin.id].sort());
    const listed = tokens.find((t) => t.id === created.id)!;
    expect(listed).not.toHaveProperty('token');
    expect(listed.last_used_at).not.toBeNull();
    expect(listed.prefix).toBe(created.prefix);
    for (const secret of [created.token, admin.token, stored!.tokenHash]) {
      expect(text).not.toContain(secret);
    }
  });

  it('are never kept for an idempotent replay: a retry mints a new one', async () => {
    const owner = await newUser('pat-idem');
    const workspace = await createWorkspace(owner.access_token);
    const key = crypto.randomUUID();
    const send = () =>
      as(owner).post<CreatedToken>(
        '/api/me/tokens',
        { name: 'ci', workspace_id: workspace.id, scope: 'read' },
        { 'idempotency-key': key },
      );
    const first = await send();
    const second = await send();
    expect([first.status, second.status]).toEqual([201, 201]);
    const [a, b] = [first, second].map((r) => r.body.token);
    expect(a).not.toBe(b);
    const stored = await db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key));
    expect(JSON.stringify(stored)).not.toContain(a);
  });

  it('reach only their own workspace and cannot manage tokens', async () => {
    const owner = await newUser('pat-reach');
    const mine = await createWorkspace(owner.access_token);
    const other = await createWorkspace(owner.access_token);
    const { token } = await mint(owner.access_token, mine.id, 'admin');

    expect((await as(token).get(`/api/workspaces/${other.id}`)).status).toBe(404);
    const managing = await as(token).get('/api/me/tokens');
    expect(managing.status).toBe(403);
    const minting = await createToken(token, { workspace_id: mine.id, scope: 'read' });
    expect(minting.status).toBe(403);
  });

  it('cannot be scoped above the member role, nor minted for a stranger’s workspace', async () => {
    const owner = await newUser('pat-owner');
    const viewer = await newUser('pat-viewer');
    const stranger = await newUser('pat-stranger');
    const workspace = await createWorkspace(owner.access_token);
    await db
      .insert(memberships)
      .values({ workspaceId: workspace.id, userId: await userIdOf(viewer.email), role: 'viewer' });

    const tooHigh = await createToken(viewer.access_token, {
      workspace_id: workspace.id,
      scope: 'write',
    });
    expect(tooHigh.status).toBe(403);
    await mint(viewer.access_token, workspace.id, 'read');
    const hidden = await createToken(stranger.access_token, {
      workspace_id: workspace.id,
      scope: 'read',
    });
    expect(hidden.status).toBe(404);

    for (const expires_in_days of [0, 366, 1.5]) {
      const invalid = await createToken(owner.access_token, {
        workspace_id: workspace.id,
        scope: 'read',
        expires_in_days,
      });
      expect(invalid.status).toBe(400);
    }
    const yearly = await createToken(owner.access_token, {
      workspace_id: workspace.id,
      scope: 'read',
      expires_in_days: 365,
    });
    expect(yearly.status).toBe(201);
  });

  it('stop working when revoked (audited) or expired', async () => {
    const owner = await newUser('pat-revoke');
    const other = await newUser('pat-other');
    const workspace = await createWorkspace(owner.access_token);
    const revoked = await mint(owner.access_token, workspace.id, 'write');
    const expiring = await mint(owner.access_token, workspace.id, 'write');
    const path = `/api/workspaces/${workspace.id}`;
    expect((await as(revoked.token).get(path)).status).toBe(200);

    const revoke = (session: string, id: string) => as(session).delete(`/api/me/tokens/${id}`);
    expect((await revoke(other.access_token, revoked.id)).status).toBe(404);
    expect((await revoke(owner.access_token, revoked.id)).status).toBe(204);
    expect((await revoke(owner.access_token, revoked.id)).status).toBe(404);
    const refused = await as(revoked.token).get(path);
    expect(refused.status).toBe(401);

    await db
      .update(apiTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiTokens.id, expiring.id));
    expect((await as(expiring.token).get(path)).status).toBe(401);

    const { tokens } = await listTokens(owner.access_token);
    expect(tokens.find((t) => t.id === revoked.id)).toMatchObject({ revoked: true });

    const audit = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.workspaceId, workspace.id), eq(auditLogs.targetId, revoked.id)));
    expect(audit.map((row) => row.action).sort()).toEqual([
      'api_token.created',
      'api_token.revoked',
    ]);
    expect(audit.find((row) => row.action === 'api_token.created')).toMatchObject({
      actorRole: 'owner',
      metadata: { name: 'cli', scope: 'write', prefix: revoked.prefix },
    });
    expect(JSON.stringify(audit)).not.toContain(revoked.token);
  });
});
