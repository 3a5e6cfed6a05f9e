/**
 * Every limit in one place. Windows slide (Upstash's weighted two-bucket window). A limit's name
 * is part of its Redis keys, so renaming one starts its counters afresh.
 */
export interface LimitPolicy {
  limit: number;
  windowSeconds: number;
  /**
   * `failures`: only attempts the route rejects as unauthenticated (401) are kept; the slot is
   * taken up front (so a parallel burst cannot slip past) and handed back on any other outcome.
   */
  counts: 'all' | 'failures';
}

export interface ActionLimits {
  /** Per client address (`cf-connecting-ip`). */
  ip?: LimitPolicy;
  /** Per account named in the request (the body's email, or the signed-in user). */
  account?: LimitPolicy;
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;

export const AUTH_RATE_LIMITS = {
  // Guessing passwords: 5 wrong ones per account per 15 minutes, whatever the source address.
  // Successful sign-ins are not counted, so people who sign in often are never locked out.
  login: {
    ip: { limit: 30, windowSeconds: 5 * MINUTE, counts: 'all' },
    account: { limit: 5, windowSeconds: 15 * MINUTE, counts: 'failures' },
  },
  // Each signup and reset request sends mail: the per-account limit stops mail-bombing an address.
  signup: {
    ip: { limit: 10, windowSeconds: HOUR, counts: 'all' },
    account: { limit: 3, windowSeconds: HOUR, counts: 'all' },
  },
  password_reset: {
    ip: { limit: 10, windowSeconds: HOUR, counts: 'all' },
    account: { limit: 3, windowSeconds: HOUR, counts: 'all' },
  },
  password_reset_confirm: {
    ip: { limit: 10, windowSeconds: 15 * MINUTE, counts: 'all' },
  },
  token_refresh: {
    ip: { limit: 60, windowSeconds: MINUTE, counts: 'all' },
  },
  // Six-digit codes: 5 wrong ones per account per 5 minutes caps guessing at 1,440 tries a day.
  mfa: {
    ip: { limit: 20, windowSeconds: 5 * MINUTE, counts: 'all' },
    account: { limit: 5, windowSeconds: 5 * MINUTE, counts: 'failures' },
  },
  // Guessing registration tokens: only refused exchanges count, so a fleet behind one address
  // can register as many runners as it likes with a valid token.
  runner_register: {
    ip: { limit: 20, windowSeconds: 15 * MINUTE, counts: 'failures' },
  },
  // Device sign-in codes (`sparki login`): each start stores a grant, so bound how fast one
  // address can make them. Polling is paced per grant (RFC 8628's slow_down), not here.
  device_code: {
    ip: { limit: 20, windowSeconds: 15 * MINUTE, counts: 'all' },
  },
  // Git webhooks (/webhooks/*): providers send from a few shared addresses, so only deliveries
  // refused for their signature count; a forger pays for the bodies it makes Sparki hash.
  webhook: {
    ip: { limit: 60, windowSeconds: MINUTE, counts: 'failures' },
  },
} as const satisfies Record<string, ActionLimits>;

/**
 * Verified deliveries per project, counted once the signature has matched (a forger cannot spend
 * a project's budget). Far above what a repository sends, since a provider does not redeliver a
 * refused delivery; it bounds what a replayed body can cost.
 */
export const WEBHOOK_PROJECT_LIMIT: LimitPolicy = {
  limit: 600,
  windowSeconds: MINUTE,
  counts: 'all',
};

export type RateLimitedAction = keyof typeof AUTH_RATE_LIMITS;

export type WorkspacePlan = 'free' | 'pro' | 'team';

/** Requests per minute for each personal access token, by its workspace's plan. */
export const API_QUOTA_PER_MINUTE = {
  free: 60,
  pro: 600,
  team: 3000,
} as const satisfies Record<WorkspacePlan, number>;

export function apiQuotaPolicy(plan: WorkspacePlan): LimitPolicy {
  return { limit: API_QUOTA_PER_MINUTE[plan], windowSeconds: MINUTE, counts: 'all' };
}

export interface LimitState {
  limit: number;
  remaining: number;
  /** Epoch milliseconds at which the current window ends. */
  reset: number;
}

/** Whole seconds until `reset`, at least 1 so a client never retries in a tight loop. */
export function secondsUntil(reset: number, now: number): number {
  return Math.max(1, Math.ceil((reset - now) / 1000));
}

/** `RateLimit-*` fields of draft-ietf-httpapi-ratelimit-headers (reset as delta seconds). */
export function rateLimitHeaders(state: LimitState, now: number): Record<string, string> {
  return {
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(Math.max(0, state.remaining)),
    'RateLimit-Reset': String(secondsUntil(state.reset, now)),
  };
}

/** The state closest to refusing: the one a client should pace itself by. */
export function tightest(states: readonly LimitState[]): LimitState | undefined {
  return states.reduce<LimitState | undefined>(
    (worst, state) =>
      !worst ||
      state.remaining < worst.remaining ||
      (state.remaining === worst.remaining && state.reset > worst.reset)
        ? state
        : worst,
    undefined,
  );
}
