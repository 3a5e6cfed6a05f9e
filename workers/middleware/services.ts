import type { MiddlewareHandler } from 'hono';
import { createServices } from '../../platform/services';
import type { HonoEnv } from '../context';

export function services(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const scoped = createServices(c.env);
    c.set('services', scoped.services);
    try {
      await next();
    } finally {
      c.executionCtx.waitUntil(scoped.close());
    }
  };
}
