import { createRoute, z } from '@hono/zod-openapi';
import { runReadinessChecks } from '../../platform/health-checks';
import { errorBody, errorResponse } from '../errors';
import { newRouter } from '../router';

const CheckSchema = z
  .object({
    status: z.enum(['ok', 'down', 'absent']),
    latency_ms: z.number().int(),
    error: z.string().optional(),
    degrades: z.string().optional().openapi({ description: 'What no longer works while absent.' }),
  })
  .openapi('ReadinessCheck');

const ReadinessSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    checks: z.record(z.string(), CheckSchema),
  })
  .openapi('Readiness');

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  summary: 'Liveness: the Worker answers',
  responses: {
    200: {
      description: 'Alive',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
  },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['health'],
  summary: 'Readiness: Postgres, Redis, R2 and queue bindings, each with status and latency',
  responses: {
    200: {
      description: 'Ready (degraded when an optional dependency such as Redis is absent)',
      content: { 'application/json': { schema: ReadinessSchema } },
    },
    503: errorResponse('A required dependency is down; `details.checks` names it'),
  },
});

export const livenessRoutes = newRouter().openapi(healthz, (c) =>
  c.json({ status: 'ok' as const }, 200),
);

export const readinessRoutes = newRouter().openapi(readyz, async (c) => {
  const checks = await runReadinessChecks(c.env, c.get('services'));
  const down = Object.entries(checks)
    .filter(([, check]) => check.status === 'down')
    .map(([name]) => name);
  if (down.length > 0) {
    return c.json(
      errorBody(c, 'not_ready', `Not ready: ${down.join(', ')} down`, { down, checks }),
      503,
    );
  }
  const degraded = Object.values(checks).some((check) => check.status === 'absent');
  return c.json({ status: degraded ? ('degraded' as const) : ('ok' as const), checks }, 200);
});
