/** A DNS-over-HTTPS resolver (JSON API) in memory: TXT records by name, for domain verification. */
export const DOH_URL = 'https://doh.test/dns-query';

export function dohDouble() {
  const txt = new Map<string, string[]>();
  const asked: string[] = [];
  let down = false;
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (down) return new Response('unavailable', { status: 503 });
    if (
      request.headers.get('accept') !== 'application/dns-json' ||
      url.searchParams.get('type') !== 'TXT'
    ) {
      return new Response('bad request', { status: 400 });
    }
    const name = url.searchParams.get('name') ?? '';
    asked.push(name);
    const values = txt.get(name);
    const body = values
      ? {
          Status: 0,
          Answer: values.map((value) => ({
            name: `${name}.`,
            type: 16,
            TTL: 300,
            // Long values come split into quoted strings of at most 255 characters.
            data: (value.match(/.{1,20}/g) ?? ['']).map((part) => `"${part}"`).join(' '),
          })),
        }
      : { Status: 3 };
    return Response.json(body, { headers: { 'content-type': 'application/dns-json' } });
  };
  return {
    txt,
    asked,
    fetch,
    handles: (url: string) => url.startsWith(DOH_URL),
    setDown(value: boolean) {
      down = value;
    },
  };
}
