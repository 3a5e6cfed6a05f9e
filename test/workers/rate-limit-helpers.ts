import { expect } from 'vitest';

interface ErrorEnvelope {
  error: { code: string; message: string; details: { limiter: string; retry_after: number } };
  request_id: string;
}

/** A client address of this test's own, so limits never carry over between tests. */
export function freshIp() {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
}

export async function expectRateLimited(response: Response, limiter: string, limit: number) {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(response.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(response.headers.get('ratelimit-remaining')).toBe('0');
  expect(Number(response.headers.get('ratelimit-reset'))).toBe(retryAfter);
  const body = await response.json<ErrorEnvelope>();
  expect(body.error.code).toBe('rate_limited');
  expect(body.error.details).toEqual({ limiter, retry_after: retryAfter });
  expect(body.request_id).toBe(response.headers.get('x-request-id'));
}

/**
 * Windows are aligned to the clock; crossing into the next one mid-test lets one extra request
 * through (the previous window's count starts to fade). Start in a window with room to finish.
 */
export async function roomInWindow(windowSeconds: number, neededSeconds = 10) {
  const windowMs = windowSeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < neededSeconds * 1000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}
