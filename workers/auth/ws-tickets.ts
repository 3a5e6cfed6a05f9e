import { createRoute, z } from '@hono/zod-openapi';
import { ticketFromProtocols, WS_PROTOCOL } from '../../core/ws-protocol';
import type { Database } from '../../db/client';
import { wsTicketPurpose } from '../../db/schema';
import {
  mintWsTicket,
  spendWsTicket,
  WS_TICKET_TTL_SECONDS,
  type WsTicketPurpose,
} from '../../domain/accounts/ws-tickets';
import { ApiError } from '../../platform/errors';
import type { Principal } from '../context';
import { openApiErrorResponses } from '../errors';
import { skipIdempotencyStorage } from '../middleware/idempotency';
import { json } from '../openapi';
import { authenticated, newRouter } from '../router';
import { requirePrincipal } from './principal';

export interface WsTicketGrant {
  /** The credential that minted the ticket, to authorize with exactly as an HTTP request would. */
  principal: Principal;
  purpose: WsTicketPurpose;
  resourceId: string | null;
}

/**
 * For the socket routes: takes the ticket from `Sec-WebSocket-Protocol: sparki.v1, ticket.<t>`,
 * spends it (it works once, within 30 s) and returns who minted it, provided that session or
 * token is still live. Throws a 401 `ApiError` otherwise. Answer the upgrade with `sparki.v1`.
 */
export async function verifyWsTicket(db: Database, request: Request): Promise<WsTicketGrant> {
  const ticket = ticketFromProtocols(request.headers.get('sec-websocket-protocol'));
  const grant = ticket ? await spendWsTicket(db, ticket) : null;
  if (!grant) throw new ApiError('unauthorized', 'A valid WebSocket ticket is required');
  const { holder, purpose, resourceId } = grant;
  const principal = holder.kind === 'session' ? { ...holder, viaCookie: false } : holder;
  return { principal, purpose, resourceId };
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
    const ticket = await mintWsTicket(
      c.get('services').db(),
      principal,
      input.purpose ?? 'build-logs',
      input.resource_id ?? null,
    );
    skipIdempotencyStorage(c);
    c.header('Cache-Control', 'no-store');
    return c.json({ ticket, expires_in: WS_TICKET_TTL_SECONDS }, 201);
  },
);

/** `/api/ws-tickets`: a ticket to open a WebSocket as the caller. */
export const wsTicketsApp = authenticated(wsTicketRoutes);
