import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, sha256Hex, toHex } from './digest';

describe('digests', () => {
  it('hashes text as UTF-8 and bytes as given, in lowercase hex', async () => {
    for (const text of ['', 'abc', 'pä$$wörd ✓']) {
      const expected = createHash('sha256').update(text, 'utf8').digest('hex');
      expect(await sha256Hex(text)).toBe(expected);
      expect(await sha256Hex(Uint8Array.from(new TextEncoder().encode(text)))).toBe(expected);
    }
    expect(toHex(new Uint8Array([0, 15, 16, 255]))).toBe('000f10ff');
  });

  it('compares bytes: equal only when every byte and the length match', () => {
    const bytes = (...values: number[]) => new Uint8Array(values);
    expect(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2, 3))).toBe(true);
    expect(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2, 4))).toBe(false);
    expect(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2))).toBe(false);
    expect(constantTimeEqual(bytes(), bytes())).toBe(true);
  });
});
