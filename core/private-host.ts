/**
 * Host names that only resolve, or only route, near the machine asking: loopback, private and
 * link-local ranges, carrier-grade NAT, IPv4-mapped IPv6, and local names (`.local`, a single
 * label). Hosts are compared as the WHATWG URL parser writes them (lower case, IPv4 in dotted
 * decimal whatever form it was typed in, IPv6 in brackets and compressed).
 */
const PRIVATE_HOST = [
  /^localhost$/,
  /\.localhost$/,
  /\.(?:local|lan|home|internal|intranet|corp|home\.arpa)$/,
  /^0\./,
  /^127\./,
  /^10\./,
  /^192\.168\./,
  /^172\.(?:1[6-9]|2\d|3[01])\./,
  /^169\.254\./,
  /^100\.(?:6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./,
  /^\[?::1?\]?$/,
  /^\[?::ffff:/,
  /^\[?f[cd][0-9a-f]{2}:/,
  /^\[?fe[89ab][0-9a-f]:/,
  // A single-label name (`gitserver`) only resolves on the local network.
  /^[a-z0-9-]+$/,
];

export function isPrivateHost(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name !== '' && PRIVATE_HOST.some((pattern) => pattern.test(name));
}

const LOOPBACK_HOST = [/^localhost$/, /\.localhost$/, /^127\./, /^\[?::1\]?$/];

export function isLoopbackHost(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return LOOPBACK_HOST.some((pattern) => pattern.test(name));
}

/**
 * Why Sparki must not send a request to a URL the user gave (an SSRF guard), or null. Outside
 * development: https only, no credentials in the URL, and no host of a private network. The
 * local stack and the tests (`development`) may also reach loopback hosts, over http too. The
 * check is on the name as written: Workers have no DNS lookup to see what a public name
 * resolves to, and Cloudflare's network does not route to private ranges anyway.
 */
export function outboundUrlProblem(text: string, options: { development: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  const loopbackAllowed = options.development && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackAllowed)) {
    return options.development
      ? 'must be an https:// URL (http:// only for a loopback host in development)'
      : 'must be an https:// URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (isPrivateHost(url.hostname) && !loopbackAllowed) {
    return `names a host on a private network (${url.hostname}), which Sparki does not call`;
  }
  return null;
}
