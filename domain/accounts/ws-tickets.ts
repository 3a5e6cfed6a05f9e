import { and, eq, gt, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import type { Database } from '../../db/client';
import { type wsTicketPurpose, wsTickets } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import { liveApiToken, type TokenCredential } from './api-tokens';
import { isLiveSession, type SessionCredential } from './sessions';

const WS_TICKET_PREFIX = 'spk_wst_';
export const WS_TICKET_TTL_SECONDS = 30;

export type WsTicketPurpose = (typeof wsTicketPurpose.enumValues)[number];

/** Who mints a ticket: a session or a personal access token, whose rights the socket gets. */
export type TicketHolder = SessionCredential | TokenCredential;

export interface WsTicketGrant {
  holder: TicketHolder;
  purpose: WsTicketPurpose;
  resourceId: string | null;
}

/** A single-use ticket to open a socket as `holder`, for `purpose` (and a resource, if named). */
export async function mintWsTicket(
  db: Database,
  holder: TicketHolder,
  purpose: WsTicketPurpose,
  resourceId: string | null,
): Promise<string> {
  const now = new Date();
  const ticket = randomSecret(WS_TICKET_PREFIX);
  // Tickets live seconds: clearing the holder's spent ones here keeps the table small.
  await db
    .delete(wsTickets)
    .where(
      and(
        eq(wsTickets.userId, holder.userId),
        or(lt(wsTickets.expiresAt, now), isNotNull(wsTickets.usedAt)),
      ),
    );
  await db.insert(wsTickets).values({
    userId: holder.userId,
    sessionId: holder.kind === 'session' ? holder.sessionId : null,
    apiTokenId: holder.kind === 'token' ? holder.tokenId : null,
    ticketHash: await sha256Hex(ticket),
    purpose,
    resourceId,
    expiresAt: new Date(now.getTime() + WS_TICKET_TTL_SECONDS * 1000),
  });
  return ticket;
}

/**
 * Spends a ticket (it works once, within 30 s) and returns who minted it, provided that session
 * or token is still live; null otherwise.
 */
export async function spendWsTicket(db: Database, ticket: string): Promise<WsTicketGrant | null> {
  if (!ticket.startsWith(WS_TICKET_PREFIX)) return null;
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
  if (!spent) return null;
  const grant = { purpose: spent.purpose, resourceId: spent.resourceId };
  if (spent.sessionId) {
    const holder = { kind: 'session', userId: spent.userId, sessionId: spent.sessionId } as const;
    return (await isLiveSession(db, holder)) ? { ...grant, holder } : null;
  }
  // Not a session, so (by the table's check constraint) an API token minted it.
  const holder = await liveApiToken(db, spent.apiTokenId!);
  return holder ? { ...grant, holder } : null;
}
