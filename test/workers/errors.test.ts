import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { newApp } from '../../workers/app';
import { fetchWithEnv, fetchWorker } from './harness';

// The shared mechanisms (defaultHook, onError) are exercised through routes mounted on the real
// app, since the foundation has no input-taking product route of its own yet.
const app = newApp();
app.openapi(
  createRoute({
    method: 'post',
    path: '/api/test/echo',
    request: {
      body: {
        content: {
          'application/json': {
            schema: z.object({ name: z.string().min(2), count: z.number().int().positive() }),
          },
        },
      },
    },
    responses: { 200: { description: 'echo' } },
  }),
  (c) => c.json(c.req.valid('json'), 200),
);
app.get('/api/test/db-busy', () => {
  // What drizzle throws when the Neon driver got no connection in time.
  throw new Error('Failed query: select "id" from "sessions" where "id" = $1', {
    cause: new Error('timeout exceeded when trying to connect'),
  });
});
app.get('/api/test/boom', () => {
  throw new Error('connect ECONNREFUSED postgres://admin:hunter2@db.internal:5432');
});

async function call(path: string, init?: RequestInit) {
  const ctx = createExecutionContext();
  const response = await app.request(path, init, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return call(path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

describe('error envelope', () => {
  it('answers an unknown route with 404 and the request id', async () => {
    const response = await fetchWorker('/api/nope', {
      headers: { 'X-Request-Id': 'req-404-test' },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('X-Request-Id')).toBe('req-404-test');
    expect(await response.json()).toEqual({
      error: { code: 'not_found', message: 'No route for GET /api/nope' },
      request_id: 'req-404-test',
    });
  });

  it('generates a request id when the client sends none', async () => {
    const response = await fetchWorker('/api/nope');
    const body = await response.json<{ request_id: string }>();
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('X-Request-Id')).toBe(body.request_id);
  });

  it('answers invalid input with 400 naming each failing field', async () => {
    const response = await post('/api/test/echo', JSON.stringify({ name: 'x', count: -1 }));
    expect(response.status).toBe(400);
    const body = await response.json<{
      error: { code: string; details: { fields: { path: string }[] } };
    }>();
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.fields.map((f) => f.path).sort()).toEqual(['count', 'name']);
  });

  it('accepts valid input', async () => {
    const response = await post('/api/test/echo', JSON.stringify({ name: 'ok', count: 2 }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'ok', count: 2 });
  });

  it('answers malformed JSON with 400 in the envelope', async () => {
    const response = await post('/api/test/echo', '{"name": ');
    expect(response.status).toBe(400);
    const body = await response.json<{ error: { code: string }; request_id: string }>();
    expect(body.error.code).toBe('bad_request');
    expect(body.request_id).toBeTruthy();
  });

  it('answers an oversized body with 413', async () => {
    const response = await post('/api/test/echo', JSON.stringify({ name: 'x'.repeat(1_100_000) }));
    expect(response.status).toBe(413);
    expect((await response.json<{ error: { code: string } }>()).error.code).toBe(
      'payload_too_large',
    );
  });

  it('turns a thrown error into a 500 that leaks nothing', async () => {
    const response = await call('/api/test/boom');
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(/hunter2|ECONNREFUSED|db\.internal|at /);
    expect(JSON.parse(text)).toMatchObject({
      error: { code: 'internal_error', message: 'Internal server error' },
    });
  });

  it('answers a database that cannot take the connection with 503 and Retry-After, not a 500', async () => {
    const response = await call('/api/test/db-busy');
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('Retry-After'))).toBeGreaterThan(0);
    const text = await response.text();
    expect(text).not.toMatch(/sessions|Failed query|timeout exceeded/);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'unavailable' } });
  });

  it('names missing configuration in a 500 instead of failing deep inside', async () => {
    const response = await fetchWithEnv('/readyz', { DATABASE_URL: '' });
    expect(response.status).toBe(500);
    const body = await response.json<{
      error: { code: string; details: { fields: { path: string }[] } };
    }>();
    expect(body.error.code).toBe('misconfigured');
    expect(body.error.details.fields.map((f) => f.path)).toContain('DATABASE_URL');
  });

  it('keeps liveness independent of configuration', async () => {
    const response = await fetchWithEnv('/healthz', { DATABASE_URL: '' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});
