import { describe, expect, it } from 'vitest';
import { fetchWithEnv, fetchWorker } from './harness';

interface Check {
  status: string;
  latency_ms: number;
  error?: string;
  degrades?: string;
}

describe('GET /readyz', () => {
  it('reports every dependency ok with its latency', async () => {
    const response = await fetchWorker('/readyz');
    const body = await response.json<{ status: string; checks: Record<string, Check> }>();
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe('ok');
    for (const name of ['postgres', 'redis', 'r2', 'queues']) {
      expect(body.checks[name]?.status, name).toBe('ok');
      expect(body.checks[name]?.latency_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('answers 503 naming Postgres when it is down', async () => {
    const response = await fetchWithEnv('/readyz', {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
    });
    expect(response.status).toBe(503);
    const body = await response.json<{
      error: {
        code: string;
        message: string;
        details: { down: string[]; checks: Record<string, Check> };
      };
    }>();
    expect(body.error.code).toBe('not_ready');
    expect(body.error.message).toContain('postgres');
    expect(body.error.details.down).toEqual(['postgres']);
    expect(body.error.details.checks.redis?.status).toBe('ok');
  });

  it('answers 503 naming Redis when the configured Redis is unreachable', async () => {
    const response = await fetchWithEnv('/readyz', {
      UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
    });
    expect(response.status).toBe(503);
    const body = await response.json<{ error: { details: { down: string[] } } }>();
    expect(body.error.details.down).toEqual(['redis']);
  });

  it('stays ready but degraded when no Redis is configured, saying what that costs', async () => {
    const response = await fetchWithEnv('/readyz', {
      UPSTASH_REDIS_REST_URL: '',
      UPSTASH_REDIS_REST_TOKEN: '',
    });
    expect(response.status).toBe(200);
    const body = await response.json<{ status: string; checks: Record<string, Check> }>();
    expect(body.status).toBe('degraded');
    expect(body.checks.redis?.status).toBe('absent');
    expect(body.checks.redis?.degrades).toMatch(/rate limit/);
    expect(body.checks.postgres?.status).toBe('ok');
  });
});
