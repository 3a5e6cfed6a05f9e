import { txtRecordText } from '../../core/domains';

/** The TXT records at a DNS name (empty when it has none or does not exist). */
export type TxtResolver = (name: string) => Promise<string[]>;

/** A lookup that could not be answered (the resolver down, a DNS server failure). */
export class DnsLookupError extends Error {}

/** Public DNS-over-HTTPS endpoint speaking the JSON API (`application/dns-json`). */
export const DEFAULT_DOH_URL = 'https://cloudflare-dns.com/dns-query';

const NOERROR = 0;
const NXDOMAIN = 3;
const TXT = 16;

interface DohAnswer {
  Status?: number;
  Answer?: { name?: string; type?: number; data?: string }[];
}

/**
 * TXT lookups over DNS-over-HTTPS's JSON API at `endpoint`, with `fetcher` (tests pass a local
 * double; the Worker passes its global fetch).
 */
export function dohTxtResolver(endpoint: string, fetcher: typeof fetch = fetch): TxtResolver {
  return async (name) => {
    const url = new URL(endpoint);
    url.searchParams.set('name', name);
    url.searchParams.set('type', 'TXT');
    let body: DohAnswer;
    try {
      const response = await fetcher(url, {
        headers: { accept: 'application/dns-json' },
        signal: AbortSignal.timeout(5_000),
      });
      if (!response.ok) throw new DnsLookupError(`the resolver answered ${response.status}`);
      body = (await response.json()) as DohAnswer;
    } catch (err) {
      if (err instanceof DnsLookupError) throw err;
      throw new DnsLookupError(`the resolver could not be reached: ${(err as Error).message}`);
    }
    if (body.Status === NXDOMAIN) return [];
    if (body.Status !== NOERROR) {
      throw new DnsLookupError(`the DNS lookup failed (status ${body.Status ?? 'missing'})`);
    }
    return (body.Answer ?? [])
      .filter((answer) => answer.type === TXT && typeof answer.data === 'string')
      .map((answer) => txtRecordText(answer.data!));
  };
}
