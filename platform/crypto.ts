import { toBase64Url } from '../core/secret-box';

/** Opaque bearer secrets: 32 random bytes, base64url, behind a recognisable prefix. */
export function randomSecret(prefix = '', bytes = 32): string {
  return `${prefix}${toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)))}`;
}

/** Stored form of an opaque secret: tokens are high-entropy, so a fast hash is enough. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}
