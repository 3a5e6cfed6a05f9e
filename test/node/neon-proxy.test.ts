import { describe, expect, it } from 'vitest';
import { FrontendMessageTracker } from '../../dev/neon-proxy';

function startup(): Buffer {
  const body = Buffer.from('user\0postgres\0\0');
  const message = Buffer.alloc(8 + body.length);
  message.writeInt32BE(message.length, 0);
  message.writeInt32BE(196608, 4);
  body.copy(message, 8);
  return message;
}

function typed(type: string, payload = Buffer.alloc(0)): Buffer {
  const message = Buffer.alloc(5 + payload.length);
  message.write(type, 0);
  message.writeInt32BE(4 + payload.length, 1);
  payload.copy(message, 5);
  return message;
}

const TERMINATE = typed('X');

describe('FrontendMessageTracker', () => {
  it('sees Terminate after the startup message and a query', () => {
    const tracker = new FrontendMessageTracker();
    expect(tracker.push(startup())).toBe(false);
    expect(tracker.push(typed('Q', Buffer.from('select 1\0')))).toBe(false);
    expect(tracker.push(TERMINATE)).toBe(true);
  });

  it('is not fooled by Terminate bytes inside a query', () => {
    const tracker = new FrontendMessageTracker();
    tracker.push(startup());
    expect(tracker.push(typed('Q', Buffer.concat([TERMINATE, Buffer.from('\0')])))).toBe(false);
  });

  it('follows messages split across chunks and an SSL request before startup', () => {
    const tracker = new FrontendMessageTracker();
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    const stream = Buffer.concat([
      ssl,
      startup(),
      typed('Q', Buffer.from('select 1\0')),
      TERMINATE,
    ]);
    const seen = [...stream].map((byte) => tracker.push(Buffer.from([byte])));
    expect(seen.indexOf(true)).toBe(stream.length - 1);
  });
});
