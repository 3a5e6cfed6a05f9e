import type { MiddlewareHandler } from 'hono';
import { answerSiteRequest } from '../../domain/hosting/site-host';
import type { HonoEnv } from '../context';

/** Site hosts own every path (their /healthz included); the platform's host falls through. */
export function edgeHost(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const response = await answerSiteRequest(c.req.raw, c.env, (promise) =>
      c.executionCtx.waitUntil(promise),
    );
    return response ?? next();
  };
}
