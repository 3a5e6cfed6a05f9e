/** Pieces of PostgreSQL's wire protocol (v3) the local proxy reads and writes. */

export interface Message {
  type: string;
  payload: Buffer;
  raw: Buffer;
}

/** Splits a stream of tagged protocol messages (type byte, int32 length) into whole messages. */
export class MessageReader {
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): Message[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const messages: Message[] = [];
    while (this.pending.length >= 5) {
      const size = 1 + this.pending.readInt32BE(1);
      if (this.pending.length < size) break;
      const raw = this.pending.subarray(0, size);
      messages.push({ type: String.fromCharCode(raw[0]!), payload: raw.subarray(5), raw });
      this.pending = this.pending.subarray(size);
    }
    return messages;
  }
}

export function message(type: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(payload.length + 4, 1);
  return Buffer.concat([head, payload]);
}

export const int32 = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
};

export const cstring = (text: string) => Buffer.from(`${text}\0`, 'latin1');

/** The null-terminated string at `offset`, and where the bytes after it start. */
export function readCString(payload: Buffer, offset = 0): { text: string; end: number } {
  const zero = payload.indexOf(0, offset);
  const end = zero === -1 ? payload.length : zero;
  return { text: payload.toString('latin1', offset, end), end: end + 1 };
}

export function errorResponse(code: string, text: string): Buffer {
  return message(
    'E',
    Buffer.concat([
      cstring('SFATAL'),
      cstring('VFATAL'),
      cstring(`C${code}`),
      cstring(`M${text}`),
      Buffer.from([0]),
    ]),
  );
}
