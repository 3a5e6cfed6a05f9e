import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthCheckSchema, judge, runHealthCheck } from './health';

let server: Server;
let base: string;
let calls = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    calls++;
    if (request.url === '/healthy') return response.end('status: all good');
    if (request.url === '/flaky') {
      response.statusCode = calls % 2 === 1 ? 503 : 200;
      return response.end('ok');
    }
    if (request.url === '/slow') return setTimeout(() => response.end('late'), 500);
    response.statusCode = 500;
    response.end('boom');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const deps = { fetch: (r: Request) => fetch(r), sleep: async () => {}, now: () => Date.now() };

describe('health checks against a real HTTP server', () => {
  it('passes on the expected status and body text', async () => {
    const check = HealthCheckSchema.parse({ path: '/healthy', body_contains: 'all good' });
    const result = await runHealthCheck(check, base, deps);
    expect(result.ok).toBe(true);
    expect(result.attempts).toHaveLength(1);
  });

  it('retries and passes when a later attempt succeeds', async () => {
    calls = 0;
    const result = await runHealthCheck(
      HealthCheckSchema.parse({ path: '/flaky', retries: 2 }),
      base,
      deps,
    );
    expect(result.ok).toBe(true);
    expect(result.attempts.map((a) => a.status)).toEqual([503, 200]);
  });

  it('fails with the reason after every retry, and on timeouts', async () => {
    const failing = await runHealthCheck(
      HealthCheckSchema.parse({ path: '/broken', retries: 1 }),
      base,
      deps,
    );
    expect(failing.ok).toBe(false);
    expect(failing.attempts.map((a) => a.reason)).toEqual([
      'expected status 200, got 500',
      'expected status 200, got 500',
    ]);
    const slow = await runHealthCheck(
      HealthCheckSchema.parse({ path: '/slow', retries: 0, timeout_ms: 100 }),
      base,
      deps,
    );
    expect(slow.attempts[0]?.reason).toBe('no answer within 100 ms');
  });

  it('explains a missing body text', () => {
    const check = HealthCheckSchema.parse({ body_contains: 'ready' });
    expect(judge(check, 200, 'starting')).toBe('body does not contain "ready"');
    expect(judge(check, 200, 'ready!')).toBeNull();
  });
});
