import { toBase64Url } from '../core/secret-box';

/** Opaque bearer secrets: 32 random bytes, base64url, behind a recognisable prefix. */
export function randomSecret(prefix = '', bytes = 32): string {
  return `${prefix}${toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)))}`;
}

// Stored form of an opaque secret: `sha256Hex` (core/digest.ts); tokens are high-entropy, so a
// fast hash is enough.
