import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSignatureHeader, signatureHeader, verifySignature } from './signature';

const SECRET = 'nsec_test-secret';
const BODY = '{"id":"evt","type":"test"}';

describe('notification signatures', () => {
  it('signs t.body with HMAC-SHA256, as an independent implementation computes it', async () => {
    const header = await signatureHeader(SECRET, 1_767_225_600, BODY);
    const expected = createHmac('sha256', SECRET).update(`1767225600.${BODY}`).digest('hex');
    expect(header).toBe(`t=1767225600,v1=${expected}`);
  });

  it('verifies a fresh signature and says why a bad one fails', async () => {
    const now = 1_767_225_600;
    const header = await signatureHeader(SECRET, now, BODY);
    expect(
      await verifySignature({ secret: SECRET, header, body: BODY, nowSeconds: now + 10 }),
    ).toEqual({
      ok: true,
      timestamp: now,
    });
    expect(
      await verifySignature({ secret: SECRET, header, body: `${BODY} `, nowSeconds: now }),
    ).toEqual({ ok: false, reason: 'mismatch' });
    expect(await verifySignature({ secret: 'other', header, body: BODY, nowSeconds: now })).toEqual(
      { ok: false, reason: 'mismatch' },
    );
    expect(
      await verifySignature({ secret: SECRET, header, body: BODY, nowSeconds: now + 301 }),
    ).toEqual({ ok: false, reason: 'stale' });
    expect(await verifySignature({ secret: SECRET, header: null, body: BODY })).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('refuses a replayed signature under a new timestamp', async () => {
    const old = await signatureHeader(SECRET, 1000, BODY);
    const forged = old.replace('t=1000', 't=2000');
    expect(
      await verifySignature({ secret: SECRET, header: forged, body: BODY, nowSeconds: 2000 }),
    ).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('accepts any one matching v1 among several, and ignores unknown schemes', async () => {
    const header = await signatureHeader(SECRET, 50, BODY);
    const v1 = header.split('v1=')[1];
    const rotated = `t=50,v0=abc,v1=${'0'.repeat(64)},v1=${v1}`;
    expect(parseSignatureHeader(rotated)?.signatures).toHaveLength(2);
    expect(
      await verifySignature({ secret: SECRET, header: rotated, body: BODY, nowSeconds: 50 }),
    ).toMatchObject({ ok: true });
    expect(parseSignatureHeader('t=abc,v1=00')).toBeUndefined();
    expect(parseSignatureHeader('t=1')).toBeUndefined();
  });
});
