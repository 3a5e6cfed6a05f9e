/** Custom domains: which host names a project may claim, and the DNS record that proves it. */

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IP_LITERAL = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[?[0-9a-f:.]+\]?)$/;

/** The DNS name whose TXT record proves control of `hostname`. */
export const verificationRecordName = (hostname: string) => `_sparki-challenge.${hostname}`;

/** The TXT record's value for a domain's token. */
export const verificationRecordValue = (token: string) => `sparki-verify=${token}`;

export type HostnameCheck = { ok: true; hostname: string } | { ok: false; message: string };

/**
 * A custom domain as stored: lower case, without a trailing dot, port or scheme. It must be a
 * public-looking DNS name (two labels or more, no IP address) and not under the platform's own
 * hosting domain, whose hosts are the platform's to give out.
 */
export function checkHostname(input: string, hostingDomain: string): HostnameCheck {
  const hostname = input.trim().toLowerCase().replace(/\.$/, '');
  if (hostname.length === 0 || hostname.length > 253) {
    return { ok: false, message: 'a host name has 1 to 253 characters' };
  }
  if (IP_LITERAL.test(hostname)) return { ok: false, message: 'an IP address is not a domain' };
  const labels = hostname.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) {
    return {
      ok: false,
      message: 'must be a host name such as www.example.com (letters, digits, hyphens and dots)',
    };
  }
  const own = hostingDomain.toLowerCase().replace(/^\./, '');
  if (hostname === own || hostname.endsWith(`.${own}`)) {
    return { ok: false, message: `hosts under ${own} are the platform’s own` };
  }
  return { ok: true, hostname };
}

/**
 * The text of one TXT record as DNS-over-HTTPS JSON gives it (`"a" "b"`: quoted strings that
 * are one value together), unquoted.
 */
export function txtRecordText(data: string): string {
  const parts = [...data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
    m[1]!.replace(/\\(.)/g, '$1'),
  );
  return parts.length > 0 ? parts.join('') : data;
}
