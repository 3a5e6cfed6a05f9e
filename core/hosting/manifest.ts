import { z } from 'zod';
import { toHex } from '../digest';

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest');

const ManifestFileSchema = z.object({
  hash: Sha256Hex,
  size: z.number().int().nonnegative(),
  /**
   * Where the blob is when it shares an object with others: [index in `packs`, byte offset].
   * Without it, the blob is an object of its own.
   */
  packed: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).optional(),
});

/** A deployment: every path of the build output mapped to a content-addressed blob. */
export const ManifestSchema = z
  .object({
    version: z.literal(1),
    files: z.record(z.string().startsWith('/').max(1024), ManifestFileSchema),
    /** The packs (by their own SHA-256) that hold some of the files' blobs. */
    packs: z.array(Sha256Hex).optional(),
    // Serve /index.html for paths with no file (client-side routing).
    spa: z.boolean().default(false),
  })
  .superRefine(({ files, packs = [] }, ctx) => {
    for (const [path, file] of Object.entries(files)) {
      if (file.packed && file.packed[0] >= packs.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['files', path, 'packed'],
          message: `names pack ${file.packed[0]} of ${packs.length}`,
        });
      }
    }
  });
export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestFile = Manifest['files'][string];

/** Where a blob was written inside a pack. */
export interface PackedAt {
  pack: string;
  offset: number;
}

/**
 * The manifest with each file whose blob is in `located` pointed at its pack, and the packs it
 * names listed once; files not in `located` stay objects of their own.
 */
export function withPacks(manifest: Manifest, located: ReadonlyMap<string, PackedAt>): Manifest {
  const packs: string[] = [];
  const indexes = new Map<string, number>();
  const files: Manifest['files'] = {};
  for (const [path, { hash, size }] of Object.entries(manifest.files)) {
    const at = located.get(hash);
    if (!at) {
      files[path] = { hash, size };
      continue;
    }
    let index = indexes.get(at.pack);
    if (index === undefined) {
      index = packs.push(at.pack) - 1;
      indexes.set(at.pack, index);
    }
    files[path] = { hash, size, packed: [index, at.offset] };
  }
  const { packs: _, ...rest } = manifest;
  return packs.length > 0 ? { ...rest, files, packs } : { ...rest, files };
}

/** A SHA-256 digest as a blob's name: lowercase hex. */
export function blobName(digest: ArrayBuffer): string {
  return toHex(digest);
}

export async function blobHash(bytes: BufferSource): Promise<string> {
  return blobName(await crypto.subtle.digest('SHA-256', bytes));
}

/** The blobs an upload still has to send: the server answers this before any byte moves. */
export function missingBlobs(manifest: Manifest, present: ReadonlySet<string>): string[] {
  const needed = new Set(Object.values(manifest.files).map((file) => file.hash));
  return [...needed].filter((hash) => !present.has(hash)).sort();
}

export interface Resolved {
  path: string;
  file: ManifestFile;
  status: 200 | 404;
  /** Served in place of a missing file (the SPA shell or the 404 page). */
  fallback: boolean;
}

/**
 * Which file answers a request path: the file itself, a directory's index.html, the pretty-URL
 * `.html`, then the SPA shell, then the site's own 404.html.
 */
export function resolvePath(manifest: Manifest, pathname: string): Resolved | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  const base = decoded.endsWith('/') ? decoded : `${decoded}/`;
  const candidates = [decoded, `${base}index.html`, `${decoded.replace(/\/$/, '')}.html`];
  for (const path of candidates) {
    const file = manifest.files[path];
    if (file) return { path, file, status: 200, fallback: false };
  }
  const shell = manifest.files['/index.html'];
  if (manifest.spa && shell)
    return { path: '/index.html', file: shell, status: 200, fallback: true };
  const notFound = manifest.files['/404.html'];
  return notFound ? { path: '/404.html', file: notFound, status: 404, fallback: true } : null;
}

// Bundlers put a content hash in asset names (app.3f9a1c2b.js, index-BdZ0-x9Q.css).
const HASHED_ASSET =
  /[.-][A-Za-z0-9_]{8,}\.(?:js|mjs|css|woff2?|ttf|otf|png|jpe?g|gif|svg|webp|avif|ico|wasm|map)$/;

export function cacheControl(path: string): string {
  if (HASHED_ASSET.test(path)) return 'public, max-age=31536000, immutable';
  return 'public, max-age=0, must-revalidate';
}

export function etag(file: ManifestFile): string {
  return `"${file.hash}"`;
}

/** True when the client's cached copy is current (`If-None-Match`, with weak tags and lists). */
export function notModified(ifNoneMatch: string | null, file: ManifestFile): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag(file));
}
