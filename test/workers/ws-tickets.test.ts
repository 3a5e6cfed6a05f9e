import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { wsTickets } from '../../db/schema';
import { verifyWsTicket } from '../../workers/auth/ws-tickets';
import { authed, createWorkspace, newUser, postJson } from './auth-helpers';
import { fetchWorker, testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function mint(token: string, body: Record<string, unknown> = {}) {
  const response = await postJson('/api/ws-tickets', body, { authorization: `Bearer ${token}` });
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json<{ ticket: string; expires_in: number }>();
}

function upgrade(protocols?: string) {
  const headers = new Headers({ upgrade: 'websocket' });
  if (protocols !== undefined) headers.set('sec-websocket-protocol', protocols);
  return new Request('http://sparki.test/api/builds/b/logs', { headers });
}

const offer = (ticket: string) => upgrade(`sparki.v1, ticket.${ticket}`);
const refused = { code: 'unauthorized', status: 401 };

async function userIdFromMe(token: string) {
  return (await (await fetchWorker('/api/me', authed(token))).json<{ id: string }>()).id;
}

describe('WebSocket tickets', () => {
  it('are minted for a session, stored hashed, and name that session once', async () => {
    const user = await newUser('ws');
    const minted = await mint(user.access_token, { resource_id: 'build-42' });
    expect(minted.expires_in).toBe(30);
    expect(minted.ticket).toMatch(/^spk_wst_[A-Za-z0-9_-]{43}$/);
    const [stored] = await db
      .select()
      .from(wsTickets)
      .where(eq(wsTickets.userId, await userIdFromMe(user.access_token)));
    expect(stored!.ticketHash).not.toContain(minted.ticket);

    const grant = await verifyWsTicket(db, offer(minted.ticket));
    expect(grant).toEqual({
      purpose: 'build-logs',
      resourceId: 'build-42',
      principal: {
        kind: 'session',
        userId: await userIdFromMe(user.access_token),
        sessionId: user.session_id,
        viaCookie: false,
      },
    });
    await expect(verifyWsTicket(db, offer(minted.ticket))).rejects.toMatchObject(refused);
  });

  it('can be spent by only one of two simultaneous upgrades', async () => {
    const user = await newUser('ws-race');
    const { ticket } = await mint(user.access_token);
    const results = await Promise.allSettled([
      verifyWsTicket(db, offer(ticket)),
      verifyWsTicket(db, offer(ticket)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('refuses offers without our protocol, without a ticket, or with an unknown one', async () => {
    const user = await newUser('ws-offer');
    const { ticket } = await mint(user.access_token);
    await expect(verifyWsTicket(db, upgrade())).rejects.toMatchObject(refused);
    await expect(verifyWsTicket(db, upgrade(`ticket.${ticket}`))).rejects.toMatchObject(refused);
    await expect(verifyWsTicket(db, upgrade('sparki.v1'))).rejects.toMatchObject(refused);
    await expect(verifyWsTicket(db, offer(`${ticket}x`))).rejects.toMatchObject(refused);
    await expect(verifyWsTicket(db, offer(user.access_token))).rejects.toMatchObject(refused);
    // The probes above did not spend the real ticket.
    await expect(verifyWsTicket(db, offer(ticket))).resolves.toBeDefined();
  });

  it('expire after 30 seconds', async () => {
    const user = await newUser('ws-expiry');
    const { ticket } = await mint(user.access_token);
    const userId = await userIdFromMe(user.access_token);
    const [row] = await db.select().from(wsTickets).where(eq(wsTickets.userId, userId));
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBeLessThanOrEqual(30_500);
    await db
      .update(wsTickets)
      .set({ expiresAt: new Date(Date.now() - 1) })
      .where(eq(wsTickets.userId, userId));
    await expect(verifyWsTicket(db, offer(ticket))).rejects.toMatchObject(refused);
  });

  it('die with the session that minted them', async () => {
    const user = await newUser('ws-logout');
    const { ticket } = await mint(user.access_token);
    const logout = await fetchWorker(
      '/api/auth/logout',
      authed(user.access_token, { method: 'POST' }),
    );
    expect(logout.status).toBe(204);
    await expect(verifyWsTicket(db, offer(ticket))).rejects.toMatchObject(refused);
  });

  it('carry an API token’s workspace and scope, and die with the token', async () => {
    const owner = await newUser('ws-pat');
    const workspace = await createWorkspace(owner.access_token);
    const created = await postJson(
      '/api/me/tokens',
      { name: 'viewer', workspace_id: workspace.id, scope: 'read' },
      { authorization: `Bearer ${owner.access_token}` },
    );
    const pat = await created.json<{ id: string; token: string }>();

    const first = await mint(pat.token, { purpose: 'build-logs' });
    const grant = await verifyWsTicket(db, offer(first.ticket));
    expect(grant.principal).toEqual({
      kind: 'token',
      userId: await userIdFromMe(owner.access_token),
      tokenId: pat.id,
      workspaceId: workspace.id,
      scope: 'read',
    });

    const second = await mint(pat.token);
    const revoked = await fetchWorker(
      `/api/me/tokens/${pat.id}`,
      authed(owner.access_token, { method: 'DELETE' }),
    );
    expect(revoked.status).toBe(204);
    await expect(verifyWsTicket(db, offer(second.ticket))).rejects.toMatchObject(refused);
  });

  it('are only minted for a signed-in caller and a known purpose', async () => {
    expect((await postJson('/api/ws-tickets', {})).status).toBe(401);
    const user = await newUser('ws-mint');
    const unknown = await postJson(
      '/api/ws-tickets',
      { purpose: 'shell' },
      { authorization: `Bearer ${user.access_token}` },
    );
    expect(unknown.status).toBe(400);
    // No body at all is fine: the purpose defaults to build logs.
    const bare = await fetchWorker(
      '/api/ws-tickets',
      authed(user.access_token, { method: 'POST' }),
    );
    expect(bare.status).toBe(201);
  });
});
