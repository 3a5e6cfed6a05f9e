import { isLoopbackHost, isPrivateHost } from './private-host';

export type OutboundUrlCheck = { ok: true; url: URL } | { ok: false; message: string };

export interface OutboundUrlPolicy {
  /**
   * Development (the local stack, the tests): loopback hosts are allowed too, over plain http as
   * well, so receivers and stand-ins on this machine work. Other private hosts stay refused
   * everywhere: a user-supplied URL must not point Sparki's requests at a network it sits in.
   */
  development: boolean;
}

export const MAX_OUTBOUND_URL_LENGTH = 2048;

/**
 * Whether Sparki may send requests to a URL a user gave it (an SSRF guard): https only, no
 * credentials in the URL, no host of a private network. The one policy for every such URL
 * (notification targets, GitLab/Gitea API URLs, deploy adapters' settings). The check is on the name as written: Workers
 * have no DNS lookup to see what a public name resolves to, and Cloudflare's network does not
 * route to private ranges anyway.
 */
export function checkOutboundUrl(value: string, policy: OutboundUrlPolicy): OutboundUrlCheck {
  if (value.length > MAX_OUTBOUND_URL_LENGTH) {
    return { ok: false, message: `must be at most ${MAX_OUTBOUND_URL_LENGTH} characters` };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, message: 'must be an absolute URL' };
  }
  if (url.username || url.password) {
    return { ok: false, message: 'must not carry a user name or password' };
  }
  const loopbackAllowed = policy.development && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackAllowed)) {
    return {
      ok: false,
      message: policy.development
        ? 'must be an https:// URL (http:// only for a loopback host)'
        : 'must be an https:// URL',
    };
  }
  if (isPrivateHost(url.hostname) && !loopbackAllowed) {
    return {
      ok: false,
      message: `must be a public host: ${url.hostname} is on a loopback, private or link-local network`,
    };
  }
  return { ok: true, url };
}

/**
 * The settings of `settings` (one level deep) whose value is an http(s) URL: every such setting
 * of a deploy adapter (its API base, a receiver, the site's public URL) is one Sparki calls.
 */
export function urlSettings(settings: unknown): { key: string; url: string }[] {
  if (typeof settings !== 'object' || settings === null) return [];
  return Object.entries(settings).flatMap(([key, value]) =>
    typeof value === 'string' && /^https?:\/\//i.test(value) ? [{ key, url: value }] : [],
  );
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
export const MAX_OUTBOUND_REDIRECTS = 5;

/**
 * The request a redirect asks for, as fetch's own following makes it: 303 (and 301/302 after a
 * POST) become a GET without a body; credentials stay with their origin. Undefined for a 307/308
 * of a request with a body, which could only be sent again by keeping a copy of every body.
 */
function redirected(previous: Request, status: number, location: URL): Request | undefined {
  const asGet =
    (status === 303 && previous.method !== 'HEAD') ||
    ((status === 301 || status === 302) && previous.method === 'POST');
  if (!asGet && previous.body !== null) return undefined;
  const headers = new Headers(previous.headers);
  if (location.origin !== new URL(previous.url).origin) {
    headers.delete('authorization');
    headers.delete('cookie');
  }
  if (asGet) for (const name of ['content-type', 'content-length']) headers.delete(name);
  return new Request(location, {
    method: asGet ? 'GET' : previous.method,
    headers,
    signal: previous.signal,
    redirect: 'manual',
  });
}

/**
 * `fetch`, refusing before sending anything a request to a URL the policy does not allow.
 * Redirects (`redirect: 'follow'`, the default) are followed here, at most
 * `MAX_OUTBOUND_REDIRECTS`, each new URL checked before it is asked: the runtime's own following
 * would go wherever the answering server points, a private address included.
 */
export function outboundFetch(
  fetch: (request: Request) => Promise<Response>,
  policy: OutboundUrlPolicy,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const follow = request.redirect === 'follow';
    let current = follow ? new Request(request, { redirect: 'manual' }) : request;
    for (let hop = 0; ; hop++) {
      const checked = checkOutboundUrl(current.url, policy);
      if (!checked.ok) throw new Error(`not sent: ${current.url} ${checked.message}`);
      const response = await fetch(current);
      const location = response.headers.get('location');
      if (!follow || !REDIRECTS.has(response.status) || location === null) return response;
      if (hop === MAX_OUTBOUND_REDIRECTS) {
        throw new Error(
          `not sent: more than ${MAX_OUTBOUND_REDIRECTS} redirects from ${request.url}`,
        );
      }
      const next = redirected(current, response.status, new URL(location, current.url));
      if (!next) return response;
      await response.body?.cancel();
      current = next;
    }
  };
}
