/** The subprotocol a Sparki socket speaks; the server echoes it in the 101 answer. */
export const WS_PROTOCOL = 'sparki.v1';
const TICKET_PREFIX = 'ticket.';

/**
 * The ticket from a `Sec-WebSocket-Protocol` offer such as `sparki.v1, ticket.<ticket>`: browsers
 * cannot set headers on a WebSocket, but they can offer subprotocols. Null unless the offer names
 * our protocol and exactly one ticket.
 */
export function ticketFromProtocols(header: string | null | undefined): string | null {
  const offered = (header ?? '')
    .split(',')
    .map((protocol) => protocol.trim())
    .filter(Boolean);
  const tickets = offered.filter((protocol) => protocol.startsWith(TICKET_PREFIX));
  if (!offered.includes(WS_PROTOCOL) || tickets.length !== 1) return null;
  return tickets[0]!.slice(TICKET_PREFIX.length) || null;
}
