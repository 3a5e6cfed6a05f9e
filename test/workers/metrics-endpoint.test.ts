import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../../workers/errors';
import { fetchWithEnv } from './harness';

// Only this file sets METRICS_TOKEN, so only its requests are counted in the shared test Redis:
// the values below move by what this file does and nothing else.
const TOKEN = 'metrics-test-token-0123456789';
const withToken = { METRICS_TOKEN: TOKEN };

function scrape(authorization?: string, overrides: Partial<Env> = withToken) {
  return fetchWithEnv(
    '/metrics',
    overrides,
    authorization ? { headers: { authorization } } : undefined,
  );
}

/** The value of one sample line (`name{labels} value`), 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function exposition() {
  const response = await scrape(`Bearer ${TOKEN}`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('GET /metrics', () => {
  it('is not there (404, as any unknown path) without METRICS_TOKEN', async () => {
    expect(env.METRICS_TOKEN ?? '').toBe('');
    const response = await scrape(`Bearer ${TOKEN}`, {});
    expect(response.status).toBe(404);
    const body = await response.json<ErrorResponse>();
    expect(body.error).toEqual({ code: 'not_found', message: 'No route for GET /metrics' });
    expect(body.request_id).toBeTruthy();
  });

  it('refuses a missing, malformed or wrong token with 401 in the shared envelope', async () => {
    for (const authorization of [
      undefined,
      TOKEN,
      `Basic ${btoa(`x:${TOKEN}`)}`,
      'Bearer wrong-token-of-some-length',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
    ]) {
      const response = await scrape(authorization);
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="sparki-metrics"');
      const body = await response.json<ErrorResponse>();
      expect(body.error.code).toBe('unauthorized');
      expect(body.request_id).toBeTruthy();
    }
  });

  it('names a METRICS_TOKEN too short to be a secret as misconfiguration', async () => {
    const response = await scrape('Bearer short', { METRICS_TOKEN: 'short' });
    expect(response.status).toBe(500);
    const body = await response.json<ErrorResponse>();
    expect(body.error.code).toBe('misconfigured');
    expect(JSON.stringify(body.error.details)).toContain('METRICS_TOKEN');
  });

  it('answers the text exposition with every metric declared', async () => {
    const response = await scrape(`Bearer ${TOKEN}`);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    for (const type of [
      'sparki_http_request_duration_seconds histogram',
      'sparki_builds_finished_total counter',
      'sparki_build_queue_wait_seconds histogram',
      'sparki_runner_pickup_seconds histogram',
      'sparki_build_step_duration_seconds histogram',
      'sparki_deployments_finished_total counter',
      'sparki_deployment_duration_seconds histogram',
      'sparki_deployment_rollbacks_total counter',
      'sparki_webhook_deliveries_total counter',
      'sparki_runner_utilisation_ratio gauge',
    ]) {
      expect(text).toContain(`# TYPE ${type}\n`);
    }
  });

  it('labels API latency with the route pattern, never the raw path', async () => {
    // Unauthenticated, an unknown build is a 404 like any other: counted under its pattern.
    const route = 'method="GET",route="/api/builds/:id",status="404"';
    const count = `sparki_http_request_duration_seconds_count{${route}}`;
    const before = sample(await exposition(), count);
    const ids = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    for (const id of ids) {
      expect((await fetchWithEnv(`/api/builds/${id}`, withToken)).status).toBe(404);
    }
    const after = await exposition();
    expect(sample(after, count)).toBe(before + 3);
    for (const id of ids) expect(after).not.toContain(id);
    expect(sample(after, `sparki_http_request_duration_seconds_bucket{le="+Inf",${route}}`)).toBe(
      before + 3,
    );
  });

  it('puts paths no route claims under one label', async () => {
    const series =
      'sparki_http_request_duration_seconds_count{method="GET",route="(unmatched)",status="404"}';
    const before = sample(await exposition(), series);
    await fetchWithEnv(`/api/nothing-${crypto.randomUUID()}`, withToken);
    await fetchWithEnv(`/webhooks/nothing-${crypto.randomUUID()}/x/y`, withToken);
    expect(sample(await exposition(), series)).toBe(before + 2);
  });

  it('counts webhook deliveries by outcome, one without its headers as invalid', async () => {
    const series = 'sparki_webhook_deliveries_total{outcome="invalid",provider="gitlab"}';
    const before = sample(await exposition(), series);
    const response = await fetchWithEnv(`/webhooks/gitlab/${crypto.randomUUID()}`, withToken, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gitlab-token': 'nope' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(sample(await exposition(), series)).toBe(before + 1);
  });
});
