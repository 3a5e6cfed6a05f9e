import { constantTimeEqual, hmacSha256Hex } from '../digest';

// Signed like Stripe's webhooks: `Sparki-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
// `<t>.<raw body>`. The timestamp is signed too, so a captured request cannot be replayed with a
// fresh one; receivers reject a `t` outside their tolerance. Several `v1` entries may appear
// (reserved for rotating a secret): any one that matches is enough.

export const SIGNATURE_HEADER = 'Sparki-Signature';
export const SIGNATURE_SCHEME = 'v1';
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

/** The `Sparki-Signature` header value for `body` sent at `timestamp` (Unix seconds). */
export async function signatureHeader(
  secret: string,
  timestamp: number,
  body: string,
): Promise<string> {
  return `t=${timestamp},${SIGNATURE_SCHEME}=${await hmacSha256Hex(secret, `${timestamp}.${body}`)}`;
}

export interface ParsedSignature {
  timestamp: number;
  signatures: string[];
}

export function parseSignatureHeader(header: string): ParsedSignature | undefined {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === SIGNATURE_SCHEME && value) signatures.push(value);
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

export type VerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

/** What a receiver does with a delivery: the reference implementation of docs/notifications.md. */
export async function verifySignature(input: {
  secret: string;
  header: string | null | undefined;
  body: string;
  nowSeconds?: number;
  toleranceSeconds?: number;
}): Promise<VerifyResult> {
  const parsed = input.header ? parseSignatureHeader(input.header) : undefined;
  if (!parsed) return { ok: false, reason: 'malformed' };
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - parsed.timestamp) > (input.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) {
    return { ok: false, reason: 'stale' };
  }
  const expected = encoder.encode(
    await hmacSha256Hex(input.secret, `${parsed.timestamp}.${input.body}`),
  );
  const matches = parsed.signatures.some((candidate) =>
    constantTimeEqual(expected, encoder.encode(candidate)),
  );
  return matches ? { ok: true, timestamp: parsed.timestamp } : { ok: false, reason: 'mismatch' };
}
