import { isLoopbackHost, isPrivateHost } from './private-host';

export type OutboundUrlCheck = { ok: true; url: URL } | { ok: false; message: string };

export interface OutboundUrlPolicy {
  /**
   * Development (the local stack, the tests): receivers on this machine or the local network are
   * allowed, and plain http on a loopback host, as the deploy webhook and identity providers do.
   * Production: https to a public host only, so a user-supplied URL cannot point Sparki's
   * requests at the platform's own network (SSRF).
   */
  allowPrivate: boolean;
}

export const MAX_OUTBOUND_URL_LENGTH = 2048;

/** Whether Sparki may send requests to a URL a user gave it (notification targets). */
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
  const loopback = isLoopbackHost(url.hostname);
  const httpAllowed = policy.allowPrivate && loopback;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && httpAllowed)) {
    return {
      ok: false,
      message: policy.allowPrivate
        ? 'must be an https:// URL (http:// only for a loopback host)'
        : 'must be an https:// URL',
    };
  }
  if (!policy.allowPrivate && isPrivateHost(url.hostname)) {
    return {
      ok: false,
      message: 'must be a public host: loopback, private and link-local addresses are refused',
    };
  }
  return { ok: true, url };
}
