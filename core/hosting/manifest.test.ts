import { describe, expect, it } from 'vitest';
import {
  blobHash,
  cacheControl,
  etag,
  ManifestSchema,
  missingBlobs,
  notModified,
  resolvePath,
  withPacks,
} from './manifest';

const h = (n: number) => n.toString(16).padStart(64, '0');

const manifest = ManifestSchema.parse({
  version: 1,
  files: {
    '/index.html': { hash: h(1), size: 10 },
    '/about/index.html': { hash: h(2), size: 10 },
    '/pricing.html': { hash: h(3), size: 10 },
    '/assets/app-BdZ0x9Qa.js': { hash: h(4), size: 10 },
    '/404.html': { hash: h(5), size: 10 },
    '/copy-of-index.html': { hash: h(1), size: 10 },
  },
});

describe('deployment manifest', () => {
  it('hashes content with SHA-256', async () => {
    expect(await blobHash(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('asks only for blobs the server lacks, once each', () => {
    expect(missingBlobs(manifest, new Set([h(1), h(2), h(3)]))).toEqual([h(4), h(5)]);
    expect(missingBlobs(manifest, new Set([1, 2, 3, 4, 5].map(h)))).toEqual([]);
  });

  it('resolves files, directory indexes, pretty URLs and the custom 404', () => {
    expect(resolvePath(manifest, '/')?.path).toBe('/index.html');
    expect(resolvePath(manifest, '/about')?.path).toBe('/about/index.html');
    expect(resolvePath(manifest, '/about/')?.path).toBe('/about/index.html');
    expect(resolvePath(manifest, '/pricing')?.path).toBe('/pricing.html');
    expect(resolvePath(manifest, '/nope')).toMatchObject({ path: '/404.html', status: 404 });
    expect(resolvePath(manifest, '/%E0%A4%A')).toBeNull();
  });

  it('falls back to the SPA shell when asked to', () => {
    const spa = { ...manifest, spa: true };
    expect(resolvePath(spa, '/app/settings')).toMatchObject({ path: '/index.html', status: 200 });
  });

  it('caches hashed assets forever and revalidates the rest', () => {
    expect(cacheControl('/assets/app-BdZ0x9Qa.js')).toContain('immutable');
    expect(cacheControl('/main.3f9a1c2b.css')).toContain('immutable');
    expect(cacheControl('/index.html')).toBe('public, max-age=0, must-revalidate');
    expect(cacheControl('/logo.png')).not.toContain('immutable');
  });

  it('answers If-None-Match with weak tags and lists', () => {
    const file = manifest.files['/index.html']!;
    expect(notModified(etag(file), file)).toBe(true);
    expect(notModified(`"other", W/${etag(file)}`, file)).toBe(true);
    expect(notModified('"other"', file)).toBe(false);
    expect(notModified(null, file)).toBe(false);
  });

  it('rejects a malformed manifest', () => {
    expect(
      ManifestSchema.safeParse({ version: 1, files: { 'no-slash': { hash: h(1), size: 1 } } })
        .success,
    ).toBe(false);
    expect(
      ManifestSchema.safeParse({ version: 1, files: { '/a': { hash: 'xyz', size: 1 } } }).success,
    ).toBe(false);
  });

  it('points files at the packs holding their blobs, naming each pack once', () => {
    const located = new Map([
      [h(1), { pack: h(100), offset: 0 }],
      [h(2), { pack: h(100), offset: 10 }],
      [h(4), { pack: h(200), offset: 7 }],
    ]);
    const packed = withPacks(manifest, located);
    expect(packed.packs).toEqual([h(100), h(200)]);
    expect(packed.files).toEqual({
      '/index.html': { hash: h(1), size: 10, packed: [0, 0] },
      '/copy-of-index.html': { hash: h(1), size: 10, packed: [0, 0] },
      '/about/index.html': { hash: h(2), size: 10, packed: [0, 10] },
      '/assets/app-BdZ0x9Qa.js': { hash: h(4), size: 10, packed: [1, 7] },
      '/pricing.html': { hash: h(3), size: 10 },
      '/404.html': { hash: h(5), size: 10 },
    });
    expect(ManifestSchema.parse(packed)).toEqual(packed);
    // Nothing packed: no pack list, and packs an earlier manifest named are not kept.
    expect(withPacks(packed, new Map())).toEqual(manifest);
  });

  it('rejects a file that names a pack the manifest does not list', () => {
    const file = { hash: h(1), size: 1, packed: [1, 0] };
    expect(ManifestSchema.safeParse({ version: 1, files: { '/a': file } }).success).toBe(false);
    expect(
      ManifestSchema.safeParse({ version: 1, files: { '/a': file }, packs: [h(9)] }).success,
    ).toBe(false);
    expect(
      ManifestSchema.safeParse({ version: 1, files: { '/a': file }, packs: [h(9), h(8)] }).success,
    ).toBe(true);
  });
});
