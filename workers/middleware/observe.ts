import type { MiddlewareHandler } from 'hono';
import { createLogger } from '../../platform/logger';
import { createMetrics } from '../../platform/metrics';
import type { HonoEnv } from '../context';
import { routeLabel } from './route-label';

/**
 * Binds the request id to a logger, writes one access line per request, and reports the
 * request's latency by route pattern (platform/metrics). It runs before the services exist (and
 * for routes that never need them), so it picks its metrics backends itself.
 */
export function observe(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const requestId = c.get('requestId');
    const logger = createLogger({ request_id: requestId }, c.env.LOG_LEVEL);
    c.set('logger', logger);
    const started = Date.now();
    await next();
    const durationMs = Date.now() - started;
    logger.info('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: durationMs,
      ip: c.req.header('cf-connecting-ip'),
    });
    const metrics = createMetrics(c.env, logger);
    metrics.record({
      type: 'http_request',
      method: c.req.method,
      route: routeLabel(c),
      status: c.res.status,
      seconds: durationMs / 1000,
    });
    c.executionCtx.waitUntil(metrics.flush());
  };
}
