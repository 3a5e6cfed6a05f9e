import type { MiddlewareHandler } from 'hono';
import { createLogger } from '../../platform/logger';
import type { HonoEnv } from '../context';

/** Binds the request id to a logger and writes one access line per request. */
export function observe(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const requestId = c.get('requestId');
    const logger = createLogger({ request_id: requestId }, c.env.LOG_LEVEL);
    c.set('logger', logger);
    const started = Date.now();
    await next();
    logger.info('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Date.now() - started,
      ip: c.req.header('cf-connecting-ip'),
    });
  };
}
