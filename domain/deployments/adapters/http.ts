import type { Fetch, ProviderId } from './types';

export type ProviderErrorKind =
  | 'unauthorized'
  | 'not_found'
  | 'invalid'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable'
  | 'unexpected';

function kindOf(status: number): ProviderErrorKind {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 0 || status >= 500) return 'unavailable';
  if (status >= 400) return 'invalid';
  return 'unexpected';
}

/** A provider said no, or answered something we cannot read. `body` keeps its parsed answer. */
export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly code?: string;
  readonly body?: unknown;
  constructor(
    readonly provider: ProviderId,
    /** The HTTP status; 0 when the request never got an answer. */
    readonly status: number,
    message: string,
    extra: { code?: string; body?: unknown; kind?: ProviderErrorKind } = {},
  ) {
    super(message);
    this.code = extra.code;
    this.body = extra.body;
    this.kind = extra.kind ?? kindOf(status);
  }

  /** Worth trying again later with the same request. */
  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'rate_limited';
  }
}

export class RateLimitedError extends ProviderError {
  readonly retryAt: Date;
  constructor(
    provider: ProviderId,
    readonly retryAfterMs: number,
    now: number,
    message: string,
  ) {
    super(provider, 429, message, { code: 'rate_limited' });
    this.retryAt = new Date(now + retryAfterMs);
  }
}

const DEFAULT_RETRY_MS = 60_000;

/**
 * How long a 429 asks us to wait. Providers disagree on the header: `Retry-After` (seconds or an
 * HTTP date), Cloudflare's `Ratelimit: "default";r=0;t=30`, and `X-RateLimit-Reset` /
 * `Ratelimit-Reset` which some send as epoch seconds and others as seconds from now.
 */
export function retryAfterMs(headers: Headers, now: number): number {
  const retryAfter = headers.get('retry-after');
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter.trim())) return Number(retryAfter) * 1000;
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const structured = /(?:^|;)\s*t=(\d+)/.exec(headers.get('ratelimit') ?? '');
  if (structured?.[1]) return Number(structured[1]) * 1000;
  const reset = headers.get('x-ratelimit-reset') ?? headers.get('ratelimit-reset');
  if (reset && /^\d+(\.\d+)?$/.test(reset.trim())) {
    const value = Number(reset);
    if (value > 1e12) return Math.max(0, value - now);
    if (value > 1e9) return Math.max(0, value * 1000 - now);
    return value * 1000;
  }
  return DEFAULT_RETRY_MS;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Pulls the provider's own message (and code) out of its documented error body. */
export type ErrorReader = (body: unknown) => { message: string; code?: string } | undefined;

export interface CallOptions {
  provider: ProviderId;
  fetch: Fetch;
  readError: ErrorReader;
  now?: () => number;
  /** Above the longest documented server-side wait (Fly's 60 s machine wait). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 90_000;

function describe(request: Request): string {
  const url = new URL(request.url);
  return `${request.method} ${url.pathname}`;
}

/** Sends one request; any non-2xx answer becomes a ProviderError (RateLimitedError for 429). */
export async function call(options: CallOptions, request: Request): Promise<Response> {
  const now = options.now ?? Date.now;
  let response: Response;
  try {
    const signal = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    response = await options.fetch(new Request(request, { signal }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProviderError(
      options.provider,
      0,
      `${options.provider}: ${describe(request)} failed: ${reason}`,
    );
  }
  if (response.ok) return response;
  const text = await response.text();
  const body = parseJson(text);
  const read = body === undefined ? undefined : options.readError(body);
  const snippet = text.trim().slice(0, 200);
  const message = read?.message ?? (snippet ? `non-JSON answer: ${snippet}` : 'empty answer');
  const full = `${options.provider}: ${describe(request)} → ${response.status} ${message}`;
  if (response.status === 429) {
    throw new RateLimitedError(
      options.provider,
      retryAfterMs(response.headers, now()),
      now(),
      full,
    );
  }
  throw new ProviderError(options.provider, response.status, full, { code: read?.code, body });
}

/** A 2xx answer that should be JSON; anything else is the provider breaking its contract. */
export async function readJson<T>(provider: ProviderId, response: Response): Promise<T> {
  const text = await response.text();
  const body = parseJson(text);
  if (body === undefined) {
    throw new ProviderError(
      provider,
      response.status,
      `${provider}: expected JSON, got: ${text.trim().slice(0, 200) || 'an empty body'}`,
    );
  }
  return body as T;
}

export function jsonRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: unknown,
): Request {
  if (body === undefined) return new Request(url, { method, headers });
  return new Request(url, {
    method,
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
