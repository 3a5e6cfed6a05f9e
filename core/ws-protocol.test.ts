import { describe, expect, it } from 'vitest';
import { ticketFromProtocols, WS_PROTOCOL } from './ws-protocol';

describe('ticketFromProtocols', () => {
  it('reads the ticket next to our protocol, in any order and spacing', () => {
    expect(ticketFromProtocols(`${WS_PROTOCOL}, ticket.spk_wst_abc-_9`)).toBe('spk_wst_abc-_9');
    expect(ticketFromProtocols(`ticket.xyz,${WS_PROTOCOL}`)).toBe('xyz');
  });

  it('refuses offers without our protocol, without a ticket, or with two tickets', () => {
    expect(ticketFromProtocols('ticket.xyz')).toBeNull();
    expect(ticketFromProtocols(WS_PROTOCOL)).toBeNull();
    expect(ticketFromProtocols(`${WS_PROTOCOL}, ticket.`)).toBeNull();
    expect(ticketFromProtocols(`${WS_PROTOCOL}, ticket.a, ticket.b`)).toBeNull();
    expect(ticketFromProtocols(null)).toBeNull();
  });
});
