import { toHex } from './digest';
/** How long a key binds its first response; a later request with the key starts afresh. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * An in-progress claim older than this belongs to a request that died without an answer (its
 * isolate was evicted, or it hit the CPU limit); the next request with the key takes it over.
 */
export const IDEMPOTENCY_LEASE_MS = 60 * 1000;

/** Seconds a concurrent duplicate is asked to wait before asking again. */
export const IDEMPOTENCY_RETRY_AFTER_SECONDS = 1;

export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** 1–255 printable ASCII characters (a UUID, a ULID, a client's own scheme). */
export function isValidIdempotencyKey(key: string): boolean {
  return /^[\x20-\x7e]{1,255}$/.test(key);
}

/**
 * Only definite answers are kept: a 5xx or a 429 means the request did not (fully) run, so a
 * retry must run it again rather than replay the failure.
 */
export function isReplayableStatus(status: number): boolean {
  return status < 500 && status !== 429;
}

// Per-request or per-client fields: a replay gets its own request id and rate-limit state, and
// never a cookie minted for the first request.
const UNREPLAYED_HEADERS = new Set([
  'set-cookie',
  'x-request-id',
  'content-length',
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
]);

export function replayableHeaders(headers: Iterable<[string, string]>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (!UNREPLAYED_HEADERS.has(name.toLowerCase())) kept[name.toLowerCase()] = value;
  }
  return kept;
}

/**
 * What makes two requests "the same": method, path with query, and the exact body bytes. Keyed
 * with a server secret (HMAC-SHA256), because bodies may carry secrets (an environment
 * variable's value) and a plain hash of a weak one could be guessed from the stored row.
 */
export async function requestFingerprint(
  secret: string,
  method: string,
  pathWithQuery: string,
  body: ArrayBuffer,
): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(`sparki-idempotency:${secret}`),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const head = encoder.encode(`${method.toUpperCase()}\n${pathWithQuery}\n`);
  const message = new Uint8Array(head.byteLength + body.byteLength);
  message.set(head);
  message.set(new Uint8Array(body), head.byteLength);
  const mac = await crypto.subtle.sign('HMAC', key, message);
  return toHex(mac);
}
