import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, gt, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import { TOKEN_SCOPES } from '../../core/roles';
import { ticketFromProtocols, WS_PROTOCOL } from '../../core/ws-protocol';
import type { Database } from '../../db/client';
import { apiTokens, sessions, users, wsTicketPurpose, wsTickets } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import { ApiError } from '../../platform/errors';
import type { Principal } from '../context';
import { openApiErrorResponses } from '../errors';
import { skipIdempotencyStorage } from '../middleware/idempotency';
import { json } from '../openapi';
import { authenticated, newRouter } from '../router';
import { requirePrincipal } from './principal';

export const WS_TICKET_PREFIX = 'spk_wst_';
export const WS_TICKET_TTL_SECONDS = 30;

export type WsTicketPurpose = (typeof wsTicketPurpose.enumValues)[number];

export interface WsTicketGrant {
  /** The credential that minted the ticket, to authorize with exactly as an HTTP request would. */
  principal: Principal;
  purpose: WsTicketPurpose;
  resourceId: string | null;
}

function refused(): ApiError {
  return new ApiError('unauthorized', 'A valid WebSocket ticket is required');
}

/**
 * For the socket routes: takes the ticket from `Sec-WebSocket-Protocol: sparki.v1, ticket.<t>`,
 * spends it (it works once, within 30 s) and returns who minted it, provided that session or
 * token is still live. Throws a 401 `ApiError` otherwise. Answer the upgrade with `sparki.v1`.
 */
export async function verifyWsTicket(db: Database, request: Request): Promise<WsTicketGrant> {
  const ticket = ticketFromProtocols(request.headers.get('sec-websocket-protocol'));
  if (!ticket?.startsWith(WS_TICKET_PREFIX)) throw refused();
  const now = new Date();
  const [spent] = await db
    .update(wsTickets)
    .set({ usedAt: now })
    .where(
      and(
        eq(wsTickets.ticketHash, await sha256Hex(ticket)),
        isNull(wsTickets.usedAt),
        gt(wsTickets.expiresAt, now),
      ),
    )
    .returning();
  if (!spent) throw refused();
  const grant = { purpose: spent.purpose, resourceId: spent.resourceId };

  if (spent.sessionId) {
    const [live] = await db
      .select({ id: sessions.id })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(
        and(
          eq(sessions.id, spent.sessionId),
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, now),
          isNull(users.disabledAt),
        ),
      );
    if (!live) throw refused();
    const principal: Principal = {
      kind: 'session',
      userId: spent.userId,
      sessionId: spent.sessionId,
      viaCookie: false,
    };
    return { ...grant, principal };
  }

  // Not a session, so (by the table's check constraint) an API token minted it.
  const [token] = await db
    .select({ workspaceId: apiTokens.workspaceId, scopes: apiTokens.scopes })
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.id, spent.apiTokenId!),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)),
      ),
    );
  const scope = TOKEN_SCOPES.find((s) => token?.scopes.includes(s));
  if (!token || !scope) throw refused();
  const principal: Principal = {
    kind: 'token',
    userId: spent.userId,
    tokenId: spent.apiTokenId!,
    workspaceId: token.workspaceId,
    scope,
  };
  return { ...grant, principal };
}

const CreateTicketSchema = z
  .object({
    purpose: z.enum(wsTicketPurpose.enumValues).optional().openapi({
      description: 'What the socket is for; `build-logs` when omitted',
    }),
    resource_id: z.string().min(1).max(200).optional().openapi({
      description: 'The resource the socket will open (e.g. a build id), checked again there',
    }),
  })
  .openapi('CreateWsTicket');

const WsTicketSchema = z
  .object({
    ticket: z.string().openapi({
      description: `Offer as WebSocket subprotocols: ["${WS_PROTOCOL}", "ticket.<ticket>"]`,
    }),
    expires_in: z.number().int().openapi({ example: WS_TICKET_TTL_SECONDS }),
  })
  .openapi('WsTicket');

const wsTicketRoutes = newRouter();

wsTicketRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/',
    tags: ['auth'],
    summary: 'A single-use, 30-second ticket to open a WebSocket from a browser',
    description:
      'Browsers cannot send `Authorization` on a WebSocket and tokens never go in URLs: pass the ticket in `Sec-WebSocket-Protocol` instead. The socket acts with the rights of the credential that minted it.',
    request: { body: { ...json(CreateTicketSchema), required: false } },
    responses: {
      201: { description: 'Minted', ...json(WsTicketSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requirePrincipal(c);
    const input = c.req.valid('json');
    const db = c.get('services').db();
    const now = new Date();
    const ticket = randomSecret(WS_TICKET_PREFIX);
    // Tickets live seconds: clearing the caller's spent ones here keeps the table small.
    await db
      .delete(wsTickets)
      .where(
        and(
          eq(wsTickets.userId, principal.userId),
          or(lt(wsTickets.expiresAt, now), isNotNull(wsTickets.usedAt)),
        ),
      );
    await db.insert(wsTickets).values({
      userId: principal.userId,
      sessionId: principal.kind === 'session' ? principal.sessionId : null,
      apiTokenId: principal.kind === 'token' ? principal.tokenId : null,
      ticketHash: await sha256Hex(ticket),
      purpose: input.purpose ?? 'build-logs',
      resourceId: input.resource_id ?? null,
      expiresAt: new Date(now.getTime() + WS_TICKET_TTL_SECONDS * 1000),
    });
    skipIdempotencyStorage(c);
    c.header('Cache-Control', 'no-store');
    return c.json({ ticket, expires_in: WS_TICKET_TTL_SECONDS }, 201);
  },
);

/** `/api/ws-tickets`: a ticket to open a WebSocket as the caller. */
export const wsTicketsApp = authenticated(wsTicketRoutes);
