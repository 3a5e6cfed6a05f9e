import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { constantTimeEqual } from '../../core/digest';
import { EXPOSITION_CONTENT_TYPE } from '../../core/metrics/exposition';
import { prometheusText } from '../../domain/metrics/exposition';
import { ApiError } from '../../platform/errors';
import { metricsRedis } from '../../platform/metrics';
import { bearerToken } from '../bearer';
import type { HonoEnv } from '../context';
import { errorBody, errorResponse, openApiErrorResponses } from '../errors';
import { newRouter } from '../router';

const sha256 = async (text: string) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

/** Compared as digests, so neither the token's bytes nor its length leak through timing. */
async function tokenMatches(given: string, expected: string) {
  return constantTimeEqual(await sha256(given), await sha256(expected));
}

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['health'],
  summary: 'Prometheus metrics (text exposition format), for a scraper holding METRICS_TOKEN',
  description:
    'Counters and histograms of builds, deployments, rollbacks, webhook deliveries and API ' +
    'latency by route (kept in Redis), and runner and build gauges read from Postgres at scrape ' +
    'time. Answers 404, as an unknown path does, unless the `METRICS_TOKEN` secret is set. See ' +
    'docs/observability.md.',
  responses: {
    200: {
      description: 'The exposition (format 0.0.4)',
      content: { 'text/plain': { schema: z.string() } },
    },
    401: errorResponse('No `Authorization: Bearer` header, or not the metrics token'),
    404: errorResponse('Metrics are off: no `METRICS_TOKEN` is set'),
    500: openApiErrorResponses[500],
  },
});

function refuse(c: Context<HonoEnv>) {
  return c.json(errorBody(c, 'unauthorized', 'A valid metrics bearer token is required'), 401, {
    'WWW-Authenticate': 'Bearer realm="sparki-metrics"',
  });
}

/** `GET /metrics`: public path, proven by the metrics token (not a user's). */
export const metricsApp = newRouter().openapi(metrics, async (c) => {
  const expected = c.get('services').config.METRICS_TOKEN;
  if (!expected) throw new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`);
  const given = bearerToken(c);
  if (!given || !(await tokenMatches(given, expected))) return refuse(c);
  const text = await prometheusText(c.get('services').db(), metricsRedis(c.env));
  return c.text(text, 200, {
    'content-type': EXPOSITION_CONTENT_TYPE,
    'cache-control': 'no-store',
  });
});
