import { describe, expect, it } from 'vitest';
import { ARTIFACT_URL_TTL_SECONDS, signArtifactUrl, verifyArtifactUrl } from './artifact-url';
import { generateEncryptionKey } from './secret-box';

const KEY = generateEncryptionKey();
const BUILD = '0b6f3c1e-8a55-4c0e-9d55-6a1f6f2d9c11';
const NOW = 1_750_000_000;

async function signedFor(buildId = BUILD, key = KEY) {
  const url = new URL(
    await signArtifactUrl({
      encryptionKey: key,
      publicUrl: 'https://sparki.example',
      buildId,
      nowSeconds: NOW,
    }),
  );
  return {
    url,
    expires: url.searchParams.get('expires') ?? undefined,
    signature: url.searchParams.get('signature') ?? undefined,
  };
}

describe('signed artifact download URLs', () => {
  it('names the build’s output and expires an hour after signing', async () => {
    const { url, expires, signature } = await signedFor();
    expect(url.origin).toBe('https://sparki.example');
    expect(url.pathname).toBe(`/api/artifacts/${BUILD}/output.tar.gz`);
    expect(Number(expires)).toBe(NOW + ARTIFACT_URL_TTL_SECONDS);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(
      await verifyArtifactUrl({
        encryptionKey: KEY,
        buildId: BUILD,
        expires,
        signature,
        nowSeconds: NOW,
      }),
    ).toBe('valid');
  });

  it('is expired after its expiry, and only then', async () => {
    const { expires, signature } = await signedFor();
    const at = (nowSeconds: number) =>
      verifyArtifactUrl({ encryptionKey: KEY, buildId: BUILD, expires, signature, nowSeconds });
    expect(await at(NOW + ARTIFACT_URL_TTL_SECONDS)).toBe('valid');
    expect(await at(NOW + ARTIFACT_URL_TTL_SECONDS + 1)).toBe('expired');
  });

  it('refuses a link for another build, a moved expiry, another key, or none at all', async () => {
    const { expires, signature } = await signedFor();
    const check = (changes: Partial<Parameters<typeof verifyArtifactUrl>[0]>) =>
      verifyArtifactUrl({
        encryptionKey: KEY,
        buildId: BUILD,
        expires,
        signature,
        nowSeconds: NOW,
        ...changes,
      });
    expect(await check({ buildId: crypto.randomUUID() })).toBe('invalid');
    expect(await check({ expires: String(Number(expires) + 3600) })).toBe('invalid');
    expect(await check({ encryptionKey: generateEncryptionKey() })).toBe('invalid');
    expect(await check({ signature: undefined })).toBe('invalid');
    expect(await check({ expires: undefined })).toBe('invalid');
    expect(await check({ expires: '1e12' })).toBe('invalid');
    const flipped = `${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    expect(await check({ signature: flipped })).toBe('invalid');
    // An expired link with a forged signature is refused as forged, not as expired.
    expect(await check({ signature: 'A'.repeat(43), nowSeconds: NOW + 10 * 3600 })).toBe('invalid');
  });

  it('does not sign with the encryption key itself', async () => {
    const { signature } = await signedFor();
    const raw = await crypto.subtle.importKey(
      'raw',
      Uint8Array.from(atob(KEY.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0)),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const { expires } = await signedFor();
    const direct = new Uint8Array(
      await crypto.subtle.sign(
        'HMAC',
        raw,
        new TextEncoder().encode(`/api/artifacts/${BUILD}/output.tar.gz\n${expires}`),
      ),
    );
    const directText = btoa(String.fromCharCode(...direct))
      .replaceAll('+', '-')
      .replaceAll('/', '_')
      .replace(/=+$/, '');
    expect(signature).not.toBe(directText);
  });
});
