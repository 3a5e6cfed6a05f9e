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

/** `fetch`, refusing before sending anything a request to a URL the policy does not allow. */
export function outboundFetch(
  fetch: (request: Request) => Promise<Response>,
  policy: OutboundUrlPolicy,
): (request: Request) => Promise<Response> {
  return (request) => {
    const checked = checkOutboundUrl(request.url, policy);
    if (!checked.ok) {
      return Promise.reject(new Error(`not sent: ${request.url} ${checked.message}`));
    }
    return fetch(request);
  };
}
