import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { HonoEnv } from '../context';
import { isDashboardRequest } from '../dashboard';

/**
 * The route a request's metrics are labelled with: the pattern of the endpoint it matched
 * (`/api/projects/:id`), whichever middleware answered (a 401 from authentication still counts
 * under the endpoint's pattern). Requests no endpoint matched share one label each, so a scan of
 * random paths cannot make a series per path.
 */
export function routeLabel(c: Context<HonoEnv>): string {
  // Middleware is registered for every method ('ALL'); endpoints for theirs.
  const endpoint = matchedRoutes(c).findLast((route) => route.method !== 'ALL');
  if (endpoint) return endpoint.path;
  return isDashboardRequest(c) ? '(dashboard)' : '(unmatched)';
}
