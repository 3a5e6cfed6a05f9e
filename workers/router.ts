import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { every } from 'hono/combine';
import { authenticate } from './auth/principal';
import type { HonoEnv } from './context';
import { handleZodError } from './errors';
import { idempotency } from './middleware/idempotency';
import { apiQuota } from './middleware/rate-limit';

export type Router = OpenAPIHono<HonoEnv>;

/** A sub-app with the shared validation hook; every router starts here. */
export function newRouter(): Router {
  return new OpenAPIHono<HonoEnv>({ defaultHook: handleZodError });
}

/** One sub-app of several routers, for the app to mount under their common prefix. */
export function resource(...routers: Router[]): Router {
  const app = newRouter();
  for (const router of routers) app.route('/', router);
  return app;
}

const identified = every(authenticate(), apiQuota(), idempotency());

// Once per request: a request whose path fits two routes' patterns must not claim its
// Idempotency-Key twice (the second claim would wait on the first).
const guard: MiddlewareHandler<HonoEnv> = (c, next) =>
  c.get('principal') === undefined ? identified(c, next) : next();

/**
 * A resource whose routes need to know the caller: each runs `authenticate()`, then the API
 * quota and `Idempotency-Key`, before its own middleware and validation. The guard is put on each
 * route (method and path), not on the prefix the resource is mounted under, so a public route
 * under the same prefix (`/api/runners/connect` beside `/api/runners/{id}`) stays public
 * whatever the order of mounting.
 */
export function authenticated(...routers: Router[]): Router {
  const routes = resource(...routers);
  const guarded = newRouter();
  const seen = new Set<string>();
  for (const { method, path } of routes.routes) {
    if (seen.has(`${method} ${path}`)) continue;
    seen.add(`${method} ${path}`);
    guarded.on(method, path, guard);
  }
  return guarded.route('/', routes);
}
