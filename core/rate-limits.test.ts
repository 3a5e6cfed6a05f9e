import { describe, expect, it } from 'vitest';
import {
  API_QUOTA_PER_MINUTE,
  AUTH_RATE_LIMITS,
  apiQuotaPolicy,
  rateLimitHeaders,
  secondsUntil,
  tightest,
} from './rate-limits';

describe('limits', () => {
  it('refuses the 6th wrong password for one account within 15 minutes, counting only failures', () => {
    expect(AUTH_RATE_LIMITS.login.account).toEqual({
      limit: 5,
      windowSeconds: 15 * 60,
      counts: 'failures',
    });
  });

  it('gives every limited action a looser per-IP limit than its per-account one', () => {
    for (const limits of Object.values(AUTH_RATE_LIMITS)) {
      if ('account' in limits) expect(limits.ip.limit).toBeGreaterThan(limits.account.limit);
    }
  });

  it('raises the API quota with each plan', () => {
    expect(API_QUOTA_PER_MINUTE.free).toBeLessThan(API_QUOTA_PER_MINUTE.pro);
    expect(API_QUOTA_PER_MINUTE.pro).toBeLessThan(API_QUOTA_PER_MINUTE.team);
    expect(apiQuotaPolicy('pro')).toEqual({ limit: 600, windowSeconds: 60, counts: 'all' });
  });
});

describe('headers', () => {
  it('reports the reset as whole seconds from now, never below one', () => {
    expect(secondsUntil(10_500, 9_000)).toBe(2);
    expect(secondsUntil(9_000, 9_000)).toBe(1);
    expect(secondsUntil(1_000, 9_000)).toBe(1);
  });

  it('writes the draft RateLimit fields', () => {
    expect(rateLimitHeaders({ limit: 5, remaining: -1, reset: 61_000 }, 1_000)).toEqual({
      'RateLimit-Limit': '5',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '60',
    });
  });

  it('paces the client by the limit closest to refusing', () => {
    const ip = { limit: 30, remaining: 29, reset: 1_000 };
    const account = { limit: 5, remaining: 2, reset: 2_000 };
    expect(tightest([ip, account])).toBe(account);
    expect(tightest([{ ...ip, remaining: 2 }, account])).toBe(account);
    expect(tightest([])).toBeUndefined();
  });
});
