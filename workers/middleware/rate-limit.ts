import { Ratelimit } from '@upstash/ratelimit';
import type { Redis } from '@upstash/redis/cloudflare';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { sha256Hex } from '../../core/digest';
import {
  type ActionLimits,
  AUTH_RATE_LIMITS,
  apiQuotaPolicy,
  type LimitPolicy,
  type LimitState,
  type RateLimitedAction,
  rateLimitHeaders,
  secondsUntil,
  tightest,
} from '../../core/rate-limits';
import { findWorkspace } from '../../domain/workspaces/workspaces';
import type { HonoEnv } from '../context';
import { errorBody } from '../errors';

const KEY_PREFIX = 'sparki:rl';

/** What a route answers to a wrong password or code: the attempts `counts: 'failures'` keeps. */
const FAILED_ATTEMPT_STATUS = 401;

// Module scope, so a warm isolate refuses an exhausted key without a Redis round trip. Keys carry
// the limiter's prefix, so one map serves every limiter.
const ephemeralCache = new Map<string, number>();

export interface Check {
  /** `<action>:<dimension>`: names the limiter in keys, logs and the 429's details. */
  name: string;
  policy: LimitPolicy;
  identifier: string;
}

interface Admitted {
  check: Check;
  limiter: Ratelimit;
  state: LimitState;
}

export type AccountKey = (c: Context<HonoEnv>) => string | undefined | Promise<string | undefined>;

export interface RateLimitOptions {
  /** The account the request acts on; by default the body's `email`, else the signed-in user. */
  account?: AccountKey;
}

/**
 * The client's address as Cloudflare's edge reports it (clients cannot set this header there).
 * Undefined when the request did not come through the edge (workerd tests, service bindings).
 */
export function clientIp(c: Context<HonoEnv>): string | undefined {
  return c.req.header('cf-connecting-ip') || undefined;
}

const accountFromRequest: AccountKey = async (c) => {
  if (c.req.header('content-type')?.includes('json')) {
    const body: unknown = await c.req.json().catch(() => undefined);
    const email = body && typeof body === 'object' && 'email' in body ? body.email : undefined;
    if (typeof email === 'string' && email.trim()) return `email:${email.trim().toLowerCase()}`;
  }
  const principal = c.get('principal');
  return principal ? `user:${principal.userId}` : undefined;
};

/** The limiter behind a check: its name and policy make its Redis keys. */
export function limiterFor(redis: Redis, check: Check): Ratelimit {
  return new Ratelimit({
    redis,
    prefix: `${KEY_PREFIX}:${check.name}`,
    limiter: Ratelimit.slidingWindow(check.policy.limit, `${check.policy.windowSeconds} s`),
    ephemeralCache,
    analytics: false,
  });
}

/** Runs a limiter call; an unreachable Redis lets the request through (logged), never fails it. */
async function guarded<T>(c: Context<HonoEnv>, check: Check, call: () => Promise<T>) {
  try {
    return await call();
  } catch (error) {
    c.get('logger').warn('rate_limit_unavailable', {
      limiter: check.name,
      error: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

/** A 429's envelope and headers, for a route to send as its own typed response. */
export interface Refusal {
  body: ReturnType<typeof errorBody>;
  headers: Record<string, string>;
}

function refusal(c: Context<HonoEnv>, check: Check, state: LimitState): Refusal {
  const now = Date.now();
  const retryAfter = secondsUntil(state.reset, now);
  c.get('logger').info('rate_limited', { limiter: check.name, retry_after: retryAfter });
  return {
    body: errorBody(c, 'rate_limited', `Too many requests; retry in ${retryAfter} s`, {
      limiter: check.name,
      retry_after: retryAfter,
    }),
    headers: {
      'Retry-After': String(retryAfter),
      ...rateLimitHeaders({ ...state, remaining: 0 }, now),
    },
  };
}

function tooManyRequests(c: Context<HonoEnv>, check: Check, state: LimitState): Response {
  const { body, headers } = refusal(c, check, state);
  return c.json(body, 429, headers);
}

/** Takes one slot; undefined when Redis could not be asked (the request goes on). */
async function takeSlot(c: Context<HonoEnv>, redis: Redis, check: Check) {
  const limiter = limiterFor(redis, check);
  const result = await guarded(c, check, () => limiter.limit(check.identifier));
  if (!result) return undefined;
  c.executionCtx.waitUntil(result.pending);
  return { limiter, result };
}

/**
 * Takes one slot from each check in order and refuses with 429 at the first that is spent; after
 * the route ran, hands back failure-only slots it did not use and reports the tightest limit.
 */
async function enforce(c: Context<HonoEnv>, next: Next, redis: Redis, checks: readonly Check[]) {
  const admitted: Admitted[] = [];
  for (const check of checks) {
    const taken = await takeSlot(c, redis, check);
    if (!taken) continue;
    if (!taken.result.success) return tooManyRequests(c, check, taken.result);
    admitted.push({ check, limiter: taken.limiter, state: taken.result });
  }
  await next();
  if (c.res.status !== FAILED_ATTEMPT_STATUS) {
    for (const entry of admitted) {
      if (entry.check.policy.counts !== 'failures') continue;
      const refunded = await guarded(c, entry.check, () =>
        entry.limiter.limit(entry.check.identifier, { rate: -1 }),
      );
      if (refunded) entry.state = { ...entry.state, remaining: entry.state.remaining + 1 };
    }
  }
  // A limit the route took itself (`limitWithin`) refused: its headers describe that limit.
  if (c.res.status === 429) return;
  const state = tightest(admitted.map((entry) => entry.state));
  if (state) {
    for (const [name, value] of Object.entries(rateLimitHeaders(state, Date.now()))) {
      c.header(name, value);
    }
  }
}

async function checksFor(
  c: Context<HonoEnv>,
  action: RateLimitedAction,
  account: AccountKey,
): Promise<Check[]> {
  const limits: ActionLimits = AUTH_RATE_LIMITS[action];
  const checks: Check[] = [];
  const ip = clientIp(c);
  if (limits.ip && ip) checks.push({ name: `${action}:ip`, policy: limits.ip, identifier: ip });
  const accountKey = limits.account ? await account(c) : undefined;
  if (limits.account && accountKey) {
    // Hashed: Redis keys should not hold email addresses.
    checks.push({
      name: `${action}:account`,
      policy: limits.account,
      identifier: await sha256Hex(accountKey),
    });
  }
  return checks;
}

/**
 * Per-IP and per-account limits for one sensitive action (limits in core/rate-limits.ts), e.g.
 * `createRoute({ ..., middleware: [rateLimit('mfa', { account: (c) => ... })] })`. Without Redis
 * the limits are off (announced by /readyz); without `cf-connecting-ip` only the account counts.
 */
export function rateLimit(
  action: RateLimitedAction,
  { account = accountFromRequest }: RateLimitOptions = {},
): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const redis = c.get('services').redis;
    if (!redis) return next();
    return enforce(c, next, redis, await checksFor(c, action, account));
  };
}

/**
 * One limit taken inside a route, once the route knows what to key it on (a webhook's project,
 * after its signature verified). The refusal to answer with 429, or undefined to go on; without
 * Redis the limit is off.
 */
export async function limitWithin(c: Context<HonoEnv>, check: Check): Promise<Refusal | undefined> {
  const redis = c.get('services').redis;
  if (!redis) return undefined;
  const taken = await takeSlot(c, redis, check);
  return taken && !taken.result.success ? refusal(c, check, taken.result) : undefined;
}

/** Per-minute quota for requests made with a personal access token, by the workspace's plan. */
export function apiQuota(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    const { redis, db } = c.get('services');
    if (principal?.kind !== 'token' || !redis) return next();
    const plan = (await findWorkspace(db(), principal.workspaceId))?.plan ?? 'free';
    return enforce(c, next, redis, [
      { name: `api:${plan}`, policy: apiQuotaPolicy(plan), identifier: principal.tokenId },
    ]);
  };
}
