/**
 * The one thing the Pages project's Functions do: hand the request, unchanged, to the platform
 * Worker through the `PLATFORM` service binding (wrangler.toml). Unchanged means its URL (the
 * Pages host, which is the Worker's PUBLIC_URL), its Cookie and Origin headers and, for the live
 * log and the runner gateway, its WebSocket upgrade: the Worker's answer (a 101 with the socket
 * included) goes back to the browser as it is.
 */
export interface PagesEnv {
  PLATFORM: Fetcher;
}

export const forward: PagesFunction<PagesEnv> = ({ request, env }) => env.PLATFORM.fetch(request);
