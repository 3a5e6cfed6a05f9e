import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { apiTokens } from './api-tokens';
import { createdAt, id, timestamptz } from './columns';
import { wsTicketPurpose } from './enums';
import { sessions } from './sessions';
import { users } from './users';

// Browsers cannot set headers on a WebSocket, so they present one of these single-use tickets
// instead. It remembers which credential minted it (session or API token) so the socket acts
// with exactly that credential's rights, and dies with it.
export const wsTickets = pgTable(
  'ws_tickets',
  {
    ...id,
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sessionId: uuid('session_id').references(() => sessions.id, { onDelete: 'cascade' }),
    apiTokenId: uuid('api_token_id').references(() => apiTokens.id, { onDelete: 'cascade' }),
    ticketHash: text('ticket_hash').notNull().unique('ws_tickets_ticket_hash_key'),
    purpose: wsTicketPurpose('purpose').notNull(),
    resourceId: text('resource_id'),
    expiresAt: timestamptz('expires_at').notNull(),
    usedAt: timestamptz('used_at'),
    ...createdAt,
  },
  (t) => [
    index('ws_tickets_user_id_idx').on(t.userId),
    check('ws_tickets_one_credential', sql`num_nonnulls(${t.sessionId}, ${t.apiTokenId}) = 1`),
  ],
);

export type WsTicket = typeof wsTickets.$inferSelect;
