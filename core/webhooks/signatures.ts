import { constantTimeEqual } from '../digest';
export type WebhookProvider = 'github' | 'gitlab' | 'gitea';

/** Why a delivery's signature was refused; null when it verified. */
export type SignatureFailure = 'missing' | 'malformed' | 'mismatch';

const encoder = new TextEncoder();

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function hmacKey(secret: string) {
  return crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
}

/** HMAC-SHA256 of the raw body; `crypto.subtle.verify` compares in constant time. */
async function verifyHmacHex(secret: string, body: Uint8Array<ArrayBuffer>, hex: string) {
  const signature = hexToBytes(hex);
  if (signature?.length !== 32) return 'malformed' as const;
  const ok = await crypto.subtle.verify('HMAC', await hmacKey(secret), signature, body);
  return ok ? null : ('mismatch' as const);
}

/**
 * Compares two shared tokens without leaking where they differ: both are hashed first, so the
 * loop always runs over 32 bytes whatever the lengths.
 */
async function tokensEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all(
    [a, b].map(
      async (text) => new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))),
    ),
  );
  return constantTimeEqual(x!, y!);
}

/**
 * Checks a delivery against the project's webhook secret on the raw body, before anything parses
 * it. GitHub: `X-Hub-Signature-256: sha256=<hex>`; Gitea/Forgejo: `X-Gitea-Signature: <hex>`
 * (same HMAC); GitLab sends the secret itself in `X-Gitlab-Token`.
 */
export async function verifyWebhookSignature(
  provider: WebhookProvider,
  secret: string,
  body: Uint8Array<ArrayBuffer>,
  headers: Headers,
): Promise<SignatureFailure | null> {
  switch (provider) {
    case 'github': {
      const header = headers.get('x-hub-signature-256');
      if (!header) return 'missing';
      if (!header.startsWith('sha256=')) return 'malformed';
      return verifyHmacHex(secret, body, header.slice('sha256='.length));
    }
    case 'gitea': {
      const header = headers.get('x-gitea-signature') ?? headers.get('x-forgejo-signature');
      if (!header) return 'missing';
      return verifyHmacHex(secret, body, header);
    }
    case 'gitlab': {
      const header = headers.get('x-gitlab-token');
      if (!header) return 'missing';
      return (await tokensEqual(header, secret)) ? null : 'mismatch';
    }
  }
}
