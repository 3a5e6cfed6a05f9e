import type { Context } from 'hono';
import type { HonoEnv } from './context';

// Paths the Worker answers itself: an unknown one there is an API 404, never the dashboard.
const PLATFORM_PREFIXES = ['/api/', '/webhooks/', '/.well-known/', '/dev/', '/cdn-cgi/'];
const PLATFORM_PATHS = new Set(['/api', '/webhooks', '/healthz', '/readyz']);

/**
 * Whether a request is the dashboard's to answer: a page on the platform's own host. Any other
 * host left to the platform (a custom domain not yet verified, an address typed by hand) gets
 * the API's 404, so nobody can show Sparki's sign-in page under a domain of their choosing.
 */
export function isDashboardRequest(c: Context<HonoEnv>): boolean {
  const { method, path } = c.req;
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (new URL(c.req.url).host !== new URL(c.env.PUBLIC_URL).host) return false;
  if (PLATFORM_PATHS.has(path)) return false;
  return !PLATFORM_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/**
 * The dashboard: the built single-page app from the assets binding, or, in development, Vite's
 * dev server (hot reload) behind the same origin, so the session cookie and the Origin check on
 * cookie-authenticated mutations work as they do in production.
 */
export function serveDashboard(c: Context<HonoEnv>): Promise<Response> {
  const devServer = c.env.APP_ENV === 'development' ? c.env.DASHBOARD_DEV_URL : '';
  if (devServer) {
    const url = new URL(c.req.url);
    const target = new URL(url.pathname + url.search, devServer);
    return fetch(new Request(target, c.req.raw));
  }
  return c.env.ASSETS.fetch(c.req.raw);
}
