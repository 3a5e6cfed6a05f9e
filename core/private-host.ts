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
