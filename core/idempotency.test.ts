import { describe, expect, it } from 'vitest';
import {
  isReplayableStatus,
  isValidIdempotencyKey,
  replayableHeaders,
  requestFingerprint,
} from './idempotency';

const bytes = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;
const SECRET = 'server secret';

describe('idempotency keys', () => {
  it('accepts 1–255 printable ASCII characters', () => {
    expect(isValidIdempotencyKey(crypto.randomUUID())).toBe(true);
    expect(isValidIdempotencyKey('order 42 / retry #1')).toBe(true);
    expect(isValidIdempotencyKey('k'.repeat(255))).toBe(true);
    expect(isValidIdempotencyKey('')).toBe(false);
    expect(isValidIdempotencyKey('k'.repeat(256))).toBe(false);
    expect(isValidIdempotencyKey('tab\there')).toBe(false);
    expect(isValidIdempotencyKey('clé')).toBe(false);
  });

  it('keeps definite answers only: not server errors, not rate limits', () => {
    expect([200, 201, 204, 400, 404, 409, 422].every(isReplayableStatus)).toBe(true);
    expect([429, 500, 502, 503].some(isReplayableStatus)).toBe(false);
  });

  it('never keeps cookies or per-request headers for a replay', () => {
    const headers = new Headers({
      'Content-Type': 'application/json',
      Location: '/api/workspaces/1',
      'Set-Cookie': 'sid=secret',
      'X-Request-Id': 'abc',
      'RateLimit-Remaining': '3',
      'Retry-After': '1',
    });
    expect(replayableHeaders(headers)).toEqual({
      'content-type': 'application/json',
      location: '/api/workspaces/1',
    });
  });

  it('fingerprints method, path with query and exact body', async () => {
    const base = await requestFingerprint(SECRET, 'POST', '/api/x', bytes('{"a":1}'));
    expect(await requestFingerprint(SECRET, 'post', '/api/x', bytes('{"a":1}'))).toBe(base);
    expect(await requestFingerprint(SECRET, 'PUT', '/api/x', bytes('{"a":1}'))).not.toBe(base);
    expect(await requestFingerprint(SECRET, 'POST', '/api/x?y=1', bytes('{"a":1}'))).not.toBe(base);
    expect(await requestFingerprint(SECRET, 'POST', '/api/x', bytes('{"a": 1}'))).not.toBe(base);
    // Keyed: without the server's secret the stored value cannot be recomputed from a guess.
    expect(await requestFingerprint('another secret', 'POST', '/api/x', bytes('{"a":1}'))).not.toBe(
      base,
    );
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});
