import { describe, expect, it } from 'vitest';
import { cstring, type Message, MessageReader, message, readCString } from './pg-protocol';
import { ClientStatements, ServerStatements } from './pg-statements';

const one = (raw: Buffer): Message => new MessageReader().push(raw)[0]!;
const int16 = (n: number) => Buffer.from([n >> 8, n & 255]);
const parse = (name: string, text: string) =>
  one(message('P', Buffer.concat([cstring(name), cstring(text), int16(0)])));
const bind = (statement: string) =>
  one(message('B', Buffer.concat([cstring(''), cstring(statement), int16(0), int16(0), int16(0)])));
const statementMessage = (type: 'D' | 'C', name: string) =>
  one(message(type, Buffer.concat([Buffer.from('S'), cstring(name)])));
const sync = one(message('S', Buffer.alloc(0)));
const query = (text: string) => one(message('Q', cstring(text)));
const fromServer = (type: string) =>
  one(message(type, type === 'Z' ? Buffer.from('I') : Buffer.alloc(0)));

/** The statement name a forwarded Parse, Bind, Describe or Close carries. */
function nameIn(raw: Buffer | null): string {
  const { type, payload } = one(raw!);
  if (type === 'P') return readCString(payload).text;
  // A Bind names its portal first; a Describe or Close puts its kind ('S') before the name.
  if (type === 'B') return readCString(payload, readCString(payload).end).text;
  return readCString(payload, 1).text;
}

const TEXT = 'select $1::int + 1';

/** A client that prepares TEXT as `name`, runs it and syncs, the server answering it all. */
function runPrepared(statements: ClientStatements, name = 'q1') {
  const parsed = statements.fromClient(parse(name, TEXT), true);
  const bound = statements.fromClient(bind(name), true);
  statements.fromClient(sync, true);
  if (parsed.toServer) statements.fromServer(fromServer('1'));
  statements.fromServer(fromServer('2'));
  statements.fromServer(fromServer('Z'));
  return { parsed, bound };
}

describe('prepared statements shared across a pooled connection’s clients', () => {
  it('answers a later client’s Parse of the same text itself, and binds to the server’s name', () => {
    const server = new ServerStatements();
    const first = runPrepared(new ClientStatements(server));
    expect(nameIn(first.parsed.toServer)).toBe('sparki_pool_1');
    expect(first.parsed.toClient).toBeNull();
    expect(nameIn(first.bound.toServer)).toBe('sparki_pool_1');

    const second = runPrepared(new ClientStatements(server), 'other_name');
    expect(second.parsed.toServer).toBeNull();
    expect(one(second.parsed.toClient!).type).toBe('1');
    expect(nameIn(second.bound.toServer)).toBe('sparki_pool_1');
  });

  it('passes unnamed statements through untouched and shares nothing of them', () => {
    const server = new ServerStatements();
    const client = new ClientStatements(server);
    const unnamed = parse('', TEXT);
    expect(client.fromClient(unnamed, true).toServer).toBe(unnamed.raw);
    client.fromServer(fromServer('1'));
    expect(server.byText.size).toBe(0);
  });

  it('sends the Parse on, under a new name, while the server still owes the client answers', () => {
    const server = new ServerStatements();
    runPrepared(new ClientStatements(server));
    const busy = new ClientStatements(server);
    expect(nameIn(busy.fromClient(parse('q1', TEXT), false).toServer)).toBe('sparki_pool_2');

    const pipelined = new ClientStatements(server);
    pipelined.fromClient(bind(''), true);
    const parsed = pipelined.fromClient(parse('q1', TEXT), true);
    expect(nameIn(parsed.toServer)).toBe('sparki_pool_3');
    expect(nameIn(pipelined.fromClient(bind('q1'), true).toServer)).toBe('sparki_pool_3');
  });

  it('shares no statement the server refused', () => {
    const server = new ServerStatements();
    const refused = new ClientStatements(server);
    refused.fromClient(parse('q1', TEXT), true);
    refused.fromClient(sync, true);
    refused.fromServer(fromServer('E'));
    refused.fromServer(fromServer('Z'));
    expect(runPrepared(new ClientStatements(server)).parsed.toServer).not.toBeNull();
  });

  it('renames a Describe and a Close, and shares a closed statement no more', () => {
    const server = new ServerStatements();
    const client = new ClientStatements(server);
    runPrepared(client);
    expect(nameIn(client.fromClient(statementMessage('D', 'q1'), true).toServer)).toBe(
      'sparki_pool_1',
    );
    expect(nameIn(client.fromClient(statementMessage('C', 'q1'), true).toServer)).toBe(
      'sparki_pool_1',
    );
    expect(server.byText.size).toBe(0);
  });

  it('stops sharing, and asks for DISCARD ALL, once a client prepares or drops statements in SQL', () => {
    for (const sql of ['PREPARE p AS select 1', 'deallocate all', 'DISCARD ALL']) {
      const server = new ServerStatements();
      runPrepared(new ClientStatements(server));
      const client = new ClientStatements(server);
      client.fromClient(query(sql), true);
      expect(server.needsDiscard).toBe(true);
      expect(client.fromClient(parse('q1', TEXT), true).toServer).not.toBeNull();
      server.clear();
      expect(server.needsDiscard).toBe(false);
    }
  });
});
