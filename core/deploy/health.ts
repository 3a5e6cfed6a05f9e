import { z } from 'zod';

export const HealthCheckSchema = z.object({
  path: z.string().startsWith('/').max(500).default('/'),
  expected_status: z.number().int().min(100).max(599).default(200),
  body_contains: z.string().max(500).optional(),
  timeout_ms: z.number().int().min(100).max(60_000).default(5_000),
  retries: z.number().int().min(0).max(10).default(2),
  interval_ms: z.number().int().min(0).max(60_000).default(2_000),
});
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

export interface HealthAttempt {
  at: string;
  ok: boolean;
  status: number | null;
  duration_ms: number;
  reason?: string;
}

export interface HealthResult {
  ok: boolean;
  url: string;
  attempts: HealthAttempt[];
}

export interface HealthDeps {
  fetch: (request: Request) => Promise<Response>;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

/** Judges one response; the reason says what a person needs to fix. */
export function judge(check: HealthCheck, status: number, body: string): string | null {
  if (status !== check.expected_status) {
    return `expected status ${check.expected_status}, got ${status}`;
  }
  if (check.body_contains !== undefined && !body.includes(check.body_contains)) {
    return `body does not contain "${check.body_contains}"`;
  }
  return null;
}

/** Up to `retries + 1` attempts `interval_ms` apart; the first passing one ends it. */
export async function runHealthCheck(
  check: HealthCheck,
  baseUrl: string,
  deps: HealthDeps,
): Promise<HealthResult> {
  const url = new URL(check.path, baseUrl).toString();
  const attempts: HealthAttempt[] = [];
  for (let attempt = 0; attempt <= check.retries; attempt++) {
    if (attempt > 0) await deps.sleep(check.interval_ms);
    const started = deps.now();
    const at = new Date(started).toISOString();
    try {
      const response = await deps.fetch(
        new Request(url, {
          headers: { 'user-agent': 'sparki-health-check' },
          signal: AbortSignal.timeout(check.timeout_ms),
        }),
      );
      const body = check.body_contains === undefined ? '' : await response.text();
      const reason = judge(check, response.status, body);
      attempts.push({
        at,
        ok: reason === null,
        status: response.status,
        duration_ms: deps.now() - started,
        ...(reason ? { reason } : {}),
      });
      if (reason === null) return { ok: true, url, attempts };
    } catch (err) {
      const reason =
        err instanceof Error && err.name === 'TimeoutError'
          ? `no answer within ${check.timeout_ms} ms`
          : `request failed: ${err instanceof Error ? err.message : String(err)}`;
      attempts.push({ at, ok: false, status: null, duration_ms: deps.now() - started, reason });
    }
  }
  return { ok: false, url, attempts };
}
