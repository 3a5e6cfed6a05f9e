/**
 * Host names only the local network (or this machine) can resolve or reach: loopback, private,
 * link-local, unique-local and carrier-grade NAT addresses, the unspecified address, local-only
 * names (`.local`, `.lan`, …) and single-label names. Matched against a WHATWG URL's `hostname`,
 * which has already normalised IPv4 spellings (`2130706433`, `0x7f.1` → `127.0.0.1`) and puts
 * IPv6 literals in brackets.
 */
const PRIVATE_HOST = [
  /^localhost$/,
  /\.localhost$/,
  /\.(?:local|lan|home|internal|intranet|corp)$/,
  /^0\./,
  /^127\./,
  /^10\./,
  /^192\.168\./,
  /^172\.(?:1[6-9]|2\d|3[01])\./,
  /^169\.254\./,
  /^100\.(?:6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./,
  /^\[?::1?\]?$/,
  /^\[?f[cd][0-9a-f]{2}:/,
  /^\[?fe[89ab][0-9a-f]:/,
  // IPv4-mapped IPv6 (`[::ffff:7f00:1]`): whatever it maps to, never a public name's address.
  /^\[?::ffff:/,
  // A single-label name (`gitserver`) only resolves on the local network.
  /^[a-z0-9-]+$/,
];

export function isPrivateHost(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name !== '' && PRIVATE_HOST.some((pattern) => pattern.test(name));
}

const LOOPBACK_HOST = [/^localhost$/, /\.localhost$/, /^127\./, /^\[::1\]$/];

export function isLoopbackHost(hostname: string): boolean {
  const name = hostname.toLowerCase();
  return LOOPBACK_HOST.some((pattern) => pattern.test(name));
}
