import type { Context, MiddlewareHandler } from 'hono';
import type { StatusCode } from 'hono/utils/http-status';
import {
  IDEMPOTENCY_RETRY_AFTER_SECONDS,
  IDEMPOTENT_METHODS,
  isReplayableStatus,
  isValidIdempotencyKey,
  replayableHeaders,
  requestFingerprint,
} from '../../core/idempotency';
import type { IdempotencyKey } from '../../db/schema';
import { ApiError } from '../../platform/errors';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  findIdempotencyKey,
  releaseIdempotencyKey,
} from '../../platform/idempotency-keys';
import type { HonoEnv } from '../context';
import { errorBody } from '../errors';
import { clientIp } from './rate-limit';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

// Credential endpoints answer with fresh tokens, cookies, TOTP seeds and recovery codes, which must
// not sit in a table to be handed out again; they are rate limited instead, and safe to retry.
const UNSTORED_PATH_PREFIXES = ['/api/auth/', '/api/me/mfa'];

/** For a route whose response carries a secret shown once: the key is released, not replayed. */
export function skipIdempotencyStorage(c: Context<HonoEnv>): void {
  c.set('idempotencySkip', true);
}

function scopeOf(c: Context<HonoEnv>): string {
  const principal = c.get('principal');
  if (principal?.kind === 'token') return `token:${principal.tokenId}`;
  if (principal) return `user:${principal.userId}`;
  return `ip:${clientIp(c) ?? 'unknown'}`;
}

function inProgress(c: Context<HonoEnv>) {
  return c.json(
    errorBody(
      c,
      'idempotency_in_progress',
      'A request with this Idempotency-Key is still running; retry shortly',
    ),
    409,
    { 'Retry-After': String(IDEMPOTENCY_RETRY_AFTER_SECONDS) },
  );
}

function answerExisting(c: Context<HonoEnv>, row: IdempotencyKey, requestHash: string) {
  if (row.requestHash !== requestHash) {
    throw new ApiError(
      'idempotency_key_mismatch',
      'This Idempotency-Key was already used for a different request; send a new key',
    );
  }
  if (row.status === 'in_progress' || row.responseStatus === null) return inProgress(c);
  const headers = new Headers(row.responseHeaders ?? {});
  headers.set(IDEMPOTENT_REPLAYED_HEADER, 'true');
  return c.newResponse(row.responseBody || null, {
    // The table's check constraint keeps it within 100–599.
    status: row.responseStatus as StatusCode,
    headers,
  });
}

function utf8(bytes: ArrayBuffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * `Idempotency-Key` on POST/PUT/PATCH/DELETE: the first request with a key runs and its answer is
 * kept for 24 h; a retry with the same key and request gets that answer again (marked
 * `Idempotent-Replayed: true`), a different request with the key 422, a retry while the first
 * still runs 409. Mount after `authenticate()`: keys are scoped to the caller.
 */
export function idempotency(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const key = c.req.header(IDEMPOTENCY_KEY_HEADER);
    if (key === undefined || !IDEMPOTENT_METHODS.has(c.req.method)) return next();
    if (!isValidIdempotencyKey(key)) {
      throw new ApiError('bad_request', 'Idempotency-Key must be 1–255 printable ASCII characters');
    }
    if (UNSTORED_PATH_PREFIXES.some((prefix) => c.req.path.startsWith(prefix))) return next();

    const url = new URL(c.req.url);
    const requestHash = await requestFingerprint(
      c.get('services').config.ENCRYPTION_KEY,
      c.req.method,
      url.pathname + url.search,
      await c.req.arrayBuffer(),
    );
    const db = c.get('services').db();
    const scope = scopeOf(c);

    let claimed = await claimIdempotencyKey(db, scope, key, requestHash);
    if (!claimed) {
      const existing = await findIdempotencyKey(db, scope, key);
      if (existing) return answerExisting(c, existing, requestHash);
      // The owner failed and released the key between our insert and our read: claim it again.
      claimed = await claimIdempotencyKey(db, scope, key, requestHash);
      if (!claimed) return inProgress(c);
    }
    const rowId = claimed;
    const release = () => releaseIdempotencyKey(db, rowId);

    try {
      await next();
    } catch (error) {
      await release();
      throw error;
    }
    const response = c.res;
    const body =
      c.get('idempotencySkip') || !isReplayableStatus(response.status)
        ? undefined
        : utf8(await response.clone().arrayBuffer());
    try {
      if (body === undefined) {
        await release();
        return;
      }
      await completeIdempotencyKey(db, rowId, {
        status: response.status,
        body,
        headers: replayableHeaders(response.headers),
      });
    } catch (error) {
      // The request has run, so its answer goes out; the unfinished claim lapses with its lease.
      c.get('logger').error('idempotency_store_failed', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };
}
