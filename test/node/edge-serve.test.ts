import { describe, expect, it } from 'vitest';
import { blobHash, ManifestSchema } from '../../core/hosting/manifest';
import { loadSite, serveSite } from '../../domain/hosting/serve';

/** A deployment built the way the platform stores one: blobs by hash and a manifest. */
async function deploy(files: Record<string, string>, spa = false) {
  const blobs = new Map<string, ArrayBuffer>();
  const entries: Record<string, { hash: string; size: number }> = {};
  for (const [path, text] of Object.entries(files)) {
    const bytes = new TextEncoder().encode(text);
    const hash = await blobHash(bytes);
    blobs.set(hash, bytes.buffer as ArrayBuffer);
    entries[path] = { hash, size: bytes.byteLength };
  }
  const read = async ({ hash }: { hash: string }) => blobs.get(hash) ?? null;
  const site = await loadSite(ManifestSchema.parse({ version: 1, files: entries, spa }), read);
  return (path: string, init?: RequestInit) =>
    serveSite(new Request(`https://shop.localhost${path}`, init), site, read);
}

const files = {
  '/index.html': '<h1>home</h1>',
  '/about/index.html': '<h1>about</h1>',
  '/assets/app-BdZ0x9Qa.js': 'console.log(1)',
  '/styles.css': 'body{}',
  '/404.html': '<h1>custom 404</h1>',
  '/_redirects':
    '/old /about 301\n/blog/* /posts/:splat 302\n/home /index.html 200\n/about /elsewhere 302',
  '/_headers': '/*\n  X-Frame-Options: DENY\n/assets/*\n  X-Asset: yes',
};

describe('the edge host serving a deployment', () => {
  it('serves files with content types, ETags, caching and _headers', async () => {
    const serve = await deploy(files);
    const home = await serve('/');
    expect(home.status).toBe(200);
    expect(await home.text()).toBe('<h1>home</h1>');
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(home.headers.get('cache-control')).toBe('public, max-age=0, must-revalidate');
    expect(home.headers.get('x-frame-options')).toBe('DENY');

    const asset = await serve('/assets/app-BdZ0x9Qa.js');
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('x-asset')).toBe('yes');

    const cached = await serve('/styles.css', {
      headers: { 'if-none-match': home.headers.get('etag')! },
    });
    expect(cached.status).toBe(200);
    const css = await serve('/styles.css');
    const revalidated = await serve('/styles.css', {
      headers: { 'if-none-match': css.headers.get('etag')! },
    });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
  });

  it('follows _redirects: redirects, splats, rewrites; files win unless forced', async () => {
    const serve = await deploy(files);
    const moved = await serve('/old?ref=x');
    expect(moved.status).toBe(301);
    expect(moved.headers.get('location')).toBe('/about?ref=x');
    expect((await serve('/blog/2026/hello')).headers.get('location')).toBe('/posts/2026/hello');
    const rewrite = await serve('/home');
    expect(rewrite.status).toBe(200);
    expect(await rewrite.text()).toBe('<h1>home</h1>');
    // /about exists, and its rule is not forced: the file is served.
    expect(await (await serve('/about')).text()).toBe('<h1>about</h1>');
  });

  it('serves the custom 404 page, and the SPA shell when the site is an SPA', async () => {
    const serve = await deploy(files);
    const missing = await serve('/nope');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('<h1>custom 404</h1>');
    const spa = await deploy({ '/index.html': 'shell' }, true);
    const route = await spa('/settings/profile');
    expect(route.status).toBe(200);
    expect(await route.text()).toBe('shell');
  });

  it('never serves its rule files, answers HEAD without a body and refuses other methods', async () => {
    const serve = await deploy(files);
    expect((await serve('/_redirects')).status).toBe(404);
    expect((await serve('/_headers')).status).toBe(404);
    const head = await serve('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('13');
    expect(await head.text()).toBe('');
    expect((await serve('/', { method: 'POST' })).status).toBe(405);
  });

  it('answers a plain 404 for a site without a 404 page', async () => {
    const serve = await deploy({ '/index.html': 'x' });
    expect((await serve('/missing')).status).toBe(404);
  });
});
