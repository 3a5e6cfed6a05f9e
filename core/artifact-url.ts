import { fromBase64Url, toBase64Url } from './secret-box';

/**
 * Signed, expiring download links for a build's output, handed to deploy receivers that fetch the
 * build themselves (the generic webhook's `artifact_url`). The HMAC key is derived from
 * ENCRYPTION_KEY with HKDF under its own label, so it is never the key that seals secrets.
 */

export const ARTIFACT_URL_TTL_SECONDS = 60 * 60;
const KEY_LABEL = 'sparki artifact download url v1';

export const artifactDownloadPath = (buildId: string) => `/api/artifacts/${buildId}/output.tar.gz`;

const encoder = new TextEncoder();

async function signingKey(encryptionKey: string): Promise<CryptoKey> {
  const master = await crypto.subtle.importKey(
    'raw',
    fromBase64Url(encryptionKey.replaceAll('=', '')),
    'HKDF',
    false,
    ['deriveKey'],
  );
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: encoder.encode(KEY_LABEL) },
    master,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign', 'verify'],
  );
}

/** What the signature covers: the path (so it names one build and one file) and the expiry. */
const signed = (buildId: string, expires: number) =>
  encoder.encode(`${artifactDownloadPath(buildId)}\n${expires}`);

export async function signArtifactUrl(input: {
  encryptionKey: string;
  publicUrl: string;
  buildId: string;
  nowSeconds?: number;
  ttlSeconds?: number;
}): Promise<string> {
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  const expires = now + (input.ttlSeconds ?? ARTIFACT_URL_TTL_SECONDS);
  const mac = await crypto.subtle.sign(
    'HMAC',
    await signingKey(input.encryptionKey),
    signed(input.buildId, expires),
  );
  const url = new URL(artifactDownloadPath(input.buildId), input.publicUrl);
  url.searchParams.set('expires', String(expires));
  url.searchParams.set('signature', toBase64Url(new Uint8Array(mac)));
  return url.toString();
}

export type ArtifactUrlVerdict = 'valid' | 'invalid' | 'expired';

/**
 * The signature is checked first (WebCrypto's HMAC verify compares in constant time), so a forged
 * or altered link learns nothing, not even whether its expiry has passed.
 */
export async function verifyArtifactUrl(input: {
  encryptionKey: string;
  buildId: string;
  expires: string | undefined;
  signature: string | undefined;
  nowSeconds?: number;
}): Promise<ArtifactUrlVerdict> {
  const { expires, signature } = input;
  if (!expires || !/^\d{1,12}$/.test(expires)) return 'invalid';
  if (!signature || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return 'invalid';
  const valid = await crypto.subtle.verify(
    'HMAC',
    await signingKey(input.encryptionKey),
    fromBase64Url(signature),
    signed(input.buildId, Number(expires)),
  );
  if (!valid) return 'invalid';
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  return Number(expires) < now ? 'expired' : 'valid';
}
