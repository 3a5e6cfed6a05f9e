import { describe, expect, it } from 'vitest';
import {
  checkOutboundUrl,
  MAX_OUTBOUND_REDIRECTS,
  outboundFetch,
  urlSettings,
} from './outbound-url';
import { isPrivateHost } from './private-host';

const production = { development: false };
const development = { development: true };

describe('checkOutboundUrl', () => {
  it('accepts https URLs of public hosts in production', () => {
    for (const url of [
      'https://hooks.slack.com/services/T000/B000/XXXX',
      'https://discord.com/api/webhooks/1/abc',
      'https://example.com:8443/hook?x=1',
      'https://8.8.8.8/hook',
    ]) {
      expect(checkOutboundUrl(url, production), url).toMatchObject({ ok: true });
    }
  });

  it('refuses loopback, private, link-local and local names in production, however spelled', () => {
    for (const url of [
      'https://127.0.0.1/hook',
      'https://2130706433/hook',
      'https://0x7f.1/hook',
      'https://localhost/hook',
      'https://app.localhost/hook',
      'https://10.1.2.3/hook',
      'https://172.16.0.1/hook',
      'https://192.168.1.10/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://100.64.0.1/hook',
      'https://0.0.0.0/hook',
      'https://[::1]/hook',
      'https://[::]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://[fd00::1]/hook',
      'https://[fe80::1]/hook',
      'https://nas.local/hook',
      'https://intranet/hook',
    ]) {
      const result = checkOutboundUrl(url, production);
      expect(result, url).toMatchObject({
        ok: false,
        message: expect.stringMatching(/public host/),
      });
    }
  });

  it('refuses plain http in production, even to a public host', () => {
    expect(checkOutboundUrl('http://example.com/hook', production)).toEqual({
      ok: false,
      message: 'must be an https:// URL',
    });
  });

  it('allows loopback hosts in development, over http too, and no other private host', () => {
    expect(checkOutboundUrl('http://127.0.0.1:4000/hook', development)).toMatchObject({ ok: true });
    expect(checkOutboundUrl('http://localhost:4000/hook', development)).toMatchObject({ ok: true });
    expect(checkOutboundUrl('https://git.example.org:8443/api/v1', development)).toMatchObject({
      ok: true,
    });
    expect(checkOutboundUrl('http://example.com/hook', development)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/https/),
    });
    expect(checkOutboundUrl('http://10.0.0.5/hook', development)).toMatchObject({ ok: false });
    for (const url of ['https://10.0.0.5/hook', 'https://169.254.169.254/latest']) {
      expect(checkOutboundUrl(url, development), url).toMatchObject({
        ok: false,
        message: expect.stringMatching(/public host/),
      });
    }
  });

  it('refuses other schemes, credentials in the URL, relative and overlong URLs', () => {
    for (const url of [
      'ftp://example.com/x',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:pass@example.com/hook',
      '/relative/hook',
      `https://example.com/${'a'.repeat(2100)}`,
    ]) {
      expect(checkOutboundUrl(url, development), url).toMatchObject({ ok: false });
    }
  });
});

describe('isPrivateHost', () => {
  it('tells private from public addresses at the edges of each range', () => {
    expect(isPrivateHost('172.15.255.255')).toBe(false);
    expect(isPrivateHost('172.32.0.1')).toBe(false);
    expect(isPrivateHost('100.63.255.255')).toBe(false);
    expect(isPrivateHost('100.128.0.1')).toBe(false);
    expect(isPrivateHost('100.127.255.255')).toBe(true);
    expect(isPrivateHost('example.com')).toBe(false);
    expect(isPrivateHost('LOCALHOST.')).toBe(true);
  });
});

describe('urlSettings', () => {
  it('lists the http(s) URLs among the top-level settings, nothing else', () => {
    expect(
      urlSettings({
        apiBase: 'https://api.render.com/v1',
        publicUrl: 'HTTP://shop.example.com',
        serviceId: 'srv-1',
        nested: { url: 'https://10.0.0.1/' },
        port: 443,
        git: 'ssh://git@example.com/x.git',
      }),
    ).toEqual([
      { key: 'apiBase', url: 'https://api.render.com/v1' },
      { key: 'publicUrl', url: 'HTTP://shop.example.com' },
    ]);
    expect(urlSettings(null)).toEqual([]);
    expect(urlSettings('https://example.com')).toEqual([]);
  });
});

describe('outboundFetch', () => {
  it('sends what the policy allows and refuses the rest before sending', async () => {
    const sent: string[] = [];
    const guarded = outboundFetch(async (request) => {
      sent.push(request.url);
      return new Response('ok');
    }, production);
    expect(await (await guarded(new Request('https://api.example.com/x'))).text()).toBe('ok');
    await expect(guarded(new Request('https://192.168.1.2/x'))).rejects.toThrow(
      /^not sent: https:\/\/192\.168\.1\.2\/x must be a public host/,
    );
    expect(sent).toEqual(['https://api.example.com/x']);
  });
});

describe('outboundFetch and redirects', () => {
  /** A fetch answering from a table of URL → response, recording what was asked. */
  function server(answers: Record<string, () => Response>) {
    const sent: Request[] = [];
    const fetch = async (request: Request) => {
      sent.push(request);
      const answer = answers[request.url];
      if (!answer) throw new Error(`unexpected ${request.url}`);
      return answer();
    };
    return { sent, fetch };
  }
  const redirect = (status: number, location: string) => () =>
    new Response(null, { status, headers: { location } });

  it('follows a redirect to an allowed URL, checking it first, and answers with the last response', async () => {
    const { sent, fetch } = server({
      'https://api.example.com/a': redirect(302, '/b'),
      'https://api.example.com/b': redirect(301, 'https://cdn.example.net/c'),
      'https://cdn.example.net/c': () => new Response('done'),
    });
    const response = await outboundFetch(
      fetch,
      production,
    )(new Request('https://api.example.com/a', { headers: { authorization: 'Bearer secret' } }));
    expect(await response.text()).toBe('done');
    expect(sent.map((request) => request.url)).toEqual([
      'https://api.example.com/a',
      'https://api.example.com/b',
      'https://cdn.example.net/c',
    ]);
    // The runtime is never left to follow on its own; credentials stay with their origin.
    expect(sent.every((request) => request.redirect === 'manual')).toBe(true);
    expect(sent.map((request) => request.headers.get('authorization'))).toEqual([
      'Bearer secret',
      'Bearer secret',
      null,
    ]);
  });

  it('refuses a redirect to a private address before asking it', async () => {
    const { sent, fetch } = server({
      'https://site.example.com/health': redirect(307, 'http://169.254.169.254/latest/meta-data/'),
    });
    await expect(
      outboundFetch(fetch, production)(new Request('https://site.example.com/health')),
    ).rejects.toThrow(/^not sent: http:\/\/169\.254\.169\.254\/latest\/meta-data\/ must be/);
    expect(sent).toHaveLength(1);
  });

  it(`stops after ${MAX_OUTBOUND_REDIRECTS} redirects`, async () => {
    const { sent, fetch } = server({ 'https://loop.example.com/': redirect(302, '/') });
    await expect(
      outboundFetch(fetch, production)(new Request('https://loop.example.com/')),
    ).rejects.toThrow(`more than ${MAX_OUTBOUND_REDIRECTS} redirects`);
    expect(sent).toHaveLength(MAX_OUTBOUND_REDIRECTS + 1);
  });

  it('turns a POST into a GET without its body after a 303, and leaves a 307 of a body unfollowed', async () => {
    const { sent, fetch } = server({
      'https://api.example.com/deploy': redirect(303, '/status'),
      'https://api.example.com/status': () => new Response('queued'),
      'https://api.example.com/upload': redirect(307, '/elsewhere'),
    });
    const guarded = outboundFetch(fetch, production);
    const post = (url: string) =>
      new Request(url, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
    expect(await (await guarded(post('https://api.example.com/deploy'))).text()).toBe('queued');
    expect(sent[1]).toMatchObject({ method: 'GET', body: null });
    expect(sent[1]!.headers.get('content-type')).toBeNull();
    expect((await guarded(post('https://api.example.com/upload'))).status).toBe(307);
    expect(sent.map((request) => request.url).at(-1)).toBe('https://api.example.com/upload');
  });

  it('hands a redirect back untouched when the request asked not to follow', async () => {
    const { sent, fetch } = server({ 'https://hooks.example.com/': redirect(302, '/next') });
    const response = await outboundFetch(
      fetch,
      production,
    )(new Request('https://hooks.example.com/', { redirect: 'manual' }));
    expect(response.status).toBe(302);
    expect(sent).toHaveLength(1);
  });
});
