import { inArray } from 'drizzle-orm';
import { chunks } from '../../core/chunks';
import {
  blobHash,
  type Manifest,
  type ManifestFile,
  type PackedAt,
} from '../../core/hosting/manifest';
import type { Database } from '../../db/client';
import { packedBlobs } from '../../db/schema';
import { blobKey, packKey } from '../../platform/storage-keys';
import { HASHES_PER_STATEMENT } from './blob-proofs';

/**
 * Where blob bytes live in SITES: an object of their own (`blobs/<sha256>`), or a range of a
 * pack (`packs/<sha256>`), many small blobs written at once (db/schema/packed-blobs.ts).
 */

/** The packs holding any of `hashes`. */
export async function packedLocations(
  db: Database,
  hashes: readonly string[],
): Promise<Map<string, PackedAt>> {
  const located = new Map<string, PackedAt>();
  for (const chunk of chunks([...new Set(hashes)], HASHES_PER_STATEMENT)) {
    const rows = await db
      .select({ hash: packedBlobs.hash, pack: packedBlobs.pack, offset: packedBlobs.offset })
      .from(packedBlobs)
      .where(inArray(packedBlobs.hash, chunk));
    for (const { hash, pack, offset } of rows) located.set(hash, { pack, offset });
  }
  return located;
}

/**
 * Writes blobs whose bytes were checked against their hashes as one pack, and records where each
 * is. A hash some pack holds already keeps that pack: a pack written at the same time for the
 * same blob holds a copy nothing names, which costs bytes, not correctness.
 */
export async function writePack(
  env: Env,
  db: Database,
  blobs: readonly { hash: string; bytes: Uint8Array }[],
): Promise<void> {
  const pack = new Uint8Array(blobs.reduce((sum, blob) => sum + blob.bytes.byteLength, 0));
  const offsets: number[] = [];
  let offset = 0;
  for (const { bytes } of blobs) {
    pack.set(bytes, offset);
    offsets.push(offset);
    offset += bytes.byteLength;
  }
  const name = await blobHash(pack);
  const rows = blobs.map(({ hash }, index) => ({ hash, pack: name, offset: offsets[index]! }));
  // Same name, same bytes: a pack stored already is not written again.
  await env.SITES.put(packKey(name), pack, { onlyIf: { etagDoesNotMatch: '*' } });
  for (const chunk of chunks(rows, HASHES_PER_STATEMENT)) {
    await db.insert(packedBlobs).values(chunk).onConflictDoNothing();
  }
}

/** A manifest's file's bytes, or null when the store lacks them. */
export async function openBlob(
  bucket: R2Bucket,
  manifest: Pick<Manifest, 'packs'>,
  file: ManifestFile,
): Promise<ReadableStream | null> {
  if (!file.packed) return (await bucket.get(blobKey(file.hash)))?.body ?? null;
  const pack = manifest.packs?.[file.packed[0]];
  if (!pack) return null;
  const object = await bucket.get(packKey(pack), {
    range: { offset: file.packed[1], length: file.size },
  });
  return object?.body ?? null;
}
