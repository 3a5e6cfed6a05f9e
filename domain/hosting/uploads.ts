import {
  BLOB_BATCH_MAX_BLOBS,
  BLOB_MAX_BYTES,
  type OutputFile,
  outputManifest,
  Sha256HexSchema,
} from '../../core/build-output';
import {
  blobHash,
  blobName,
  ManifestSchema,
  missingBlobs,
  withPacks,
} from '../../core/hosting/manifest';
import type { Database } from '../../db/client';
import { ApiError } from '../../platform/errors';
import { blobKey } from '../../platform/storage-keys';
import { provenBlobs, recordBlobProofs } from './blob-proofs';
import { packedLocations, writePack } from './blob-store';

/**
 * The content-addressed upload both runners (`/api/jobs/{id}/…`) and people (`sparki deploy
 * --prebuilt`, `/api/projects/{id}/uploads/…`) use: which blobs a workspace lacks, storing one,
 * and writing the file list as a manifest once every blob is there.
 */

/** The blobs of the listed output that the workspace has not proven it holds, sorted. */
export async function unprovenBlobs(
  db: Database,
  workspaceId: string,
  files: readonly OutputFile[],
): Promise<string[]> {
  const manifest = outputManifest(files);
  const hashes = [...new Set(files.map((file) => file.hash))];
  return missingBlobs(manifest, await provenBlobs(db, workspaceId, hashes));
}

/** `unprovenBlobs` with their total size, as the `…/missing` routes answer. */
export async function missingUpload(
  db: Database,
  workspaceId: string,
  files: readonly OutputFile[],
) {
  const missing = await unprovenBlobs(db, workspaceId, files);
  const sizes = new Map(files.map((file) => [file.hash, file.size]));
  const bytes = missing.reduce((sum, hash) => sum + (sizes.get(hash) ?? 0), 0);
  return { missing, bytes };
}

/** The SHA-256 of a body of `size` bytes, read without holding it in memory. */
async function digestOf(body: ReadableStream | null, size: number): Promise<string> {
  const digest = new crypto.DigestStream('SHA-256');
  if (body) await body.pipeThrough(new FixedLengthStream(size)).pipeTo(digest);
  else await digest.getWriter().close();
  return blobName(await digest.digest);
}

interface BlobUpload {
  hash: string;
  /** The request's Content-Length. */
  size: number;
  body: ReadableStream | null;
}

const mismatch = (hash: string) => new ApiError('bad_request', `The body does not hash to ${hash}`);

/**
 * Writes the blob, which R2 refuses when the content does not match the checksum it is given.
 * `ifAbsent`: only when no object is there; false when one was (nothing written).
 */
async function writeBlob(env: Env, { hash, size, body }: BlobUpload, ifAbsent: boolean) {
  const value = body ? body.pipeThrough(new FixedLengthStream(size)) : new Uint8Array();
  try {
    const written = await env.SITES.put(blobKey(hash), value, {
      sha256: hash,
      ...(ifAbsent && { onlyIf: { etagDoesNotMatch: '*' } }),
    });
    return written !== null;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/checksum|digest/i.test(message)) throw mismatch(hash);
    throw err;
  }
}

/**
 * Stores one blob under its hash unless it is there: the body must hash to `hash` (400
 * otherwise) and a stored blob is not rewritten. `proven`: the workspace holds it already, so its
 * body is not even read. Recording the workspace's proof is the caller's.
 */
async function keepBlob(env: Env, upload: BlobUpload, proven: boolean) {
  const { hash, size, body } = upload;
  if (!Number.isSafeInteger(size) || size < 0 || (size > 0 && !body)) {
    throw new ApiError('bad_request', 'Send the blob as the body, with a Content-Length');
  }
  if (size > BLOB_MAX_BYTES) {
    throw new ApiError('payload_too_large', `A blob may be at most ${BLOB_MAX_BYTES} bytes`);
  }
  const existing = await env.SITES.head(blobKey(hash));
  if (existing && proven) {
    await body?.cancel();
    return { hash, size: existing.size, stored: false };
  }
  if (!existing) {
    await writeBlob(env, upload, false);
    return { hash, size, stored: true };
  }
  // Stored by another workspace: the body must still hash to the name before this workspace
  // counts as holding it; the shared blob is not rewritten.
  if ((await digestOf(body, size)) !== hash) throw mismatch(hash);
  return { hash, size: existing.size, stored: false };
}

type StoredBlob = Awaited<ReturnType<typeof keepBlob>>;

/** Stores one blob for the workspace (`keepBlob`) and records its proof. */
export async function storeBlob(
  env: Env,
  db: Database,
  workspaceId: string,
  upload: BlobUpload,
): Promise<StoredBlob> {
  const proven = (await provenBlobs(db, workspaceId, [upload.hash])).has(upload.hash);
  const stored = await keepBlob(env, upload, proven);
  if (!proven) await recordBlobProofs(db, workspaceId, [upload.hash]);
  return stored;
}

/**
 * Stores a batch of blobs sent as multipart/form-data, one file part per blob named by its hash
 * (the body limit is the router's, BLOB_BATCH_MAX_BYTES). Every part must hash to its name (400
 * naming the first that does not, and nothing is stored); those no pack holds yet are written
 * together as one pack (one storage write for the batch, not one per blob), an empty one as its
 * own object; the workspace's proofs are written for the whole batch at once.
 */
export async function storeBlobBatch(
  env: Env,
  db: Database,
  workspaceId: string,
  form: FormData,
): Promise<{ blobs: StoredBlob[] }> {
  const parts = [...form.entries()];
  if (parts.length === 0) throw new ApiError('bad_request', 'The batch has no blobs');
  if (parts.length > BLOB_BATCH_MAX_BLOBS) {
    throw new ApiError(
      'payload_too_large',
      `A batch may hold at most ${BLOB_BATCH_MAX_BLOBS} blobs; send the rest in another`,
    );
  }
  const blobs: { hash: string; bytes: Uint8Array }[] = [];
  for (const [name, value] of parts) {
    if (!Sha256HexSchema.safeParse(name).success) {
      throw new ApiError(
        'bad_request',
        `Name each part by its blob’s SHA-256 (not “${name.slice(0, 80)}”)`,
      );
    }
    if (typeof value === 'string') {
      throw new ApiError('bad_request', `Part ${name}: send the blob as a file part`);
    }
    blobs.push({ hash: name, bytes: new Uint8Array(await value.arrayBuffer()) });
  }
  const digests = await Promise.all(blobs.map(({ bytes }) => blobHash(bytes)));
  const wrong = blobs.find((blob, index) => digests[index] !== blob.hash);
  if (wrong) throw mismatch(wrong.hash);

  const located = await packedLocations(
    db,
    blobs.map((blob) => blob.hash),
  );
  const unique = [...new Map(blobs.map((blob) => [blob.hash, blob])).values()];
  const toPack = unique.filter((blob) => blob.bytes.byteLength > 0 && !located.has(blob.hash));
  // An empty blob has no bytes to put in a pack: it stays an object of its own, written if absent.
  const empty = unique.filter((blob) => blob.bytes.byteLength === 0);
  if (toPack.length > 0) await writePack(env, db, toPack);
  const written = new Set(toPack.map((blob) => blob.hash));
  for (const blob of empty) {
    if (await writeBlob(env, { hash: blob.hash, size: 0, body: null }, true)) {
      written.add(blob.hash);
    }
  }
  await recordBlobProofs(
    db,
    workspaceId,
    unique.map((blob) => blob.hash),
  );
  return {
    blobs: blobs.map(({ hash, bytes }) => ({
      hash,
      size: bytes.byteLength,
      stored: written.has(hash),
    })),
  };
}

/**
 * Writes the file list as the manifest at `key` once the workspace holds every blob, each file
 * pointed at the pack that holds its blob when one does; 409 with the lacking hashes in
 * `details.missing` otherwise. Its file count and total size.
 */
export async function commitUpload(
  env: Env,
  db: Database,
  workspaceId: string,
  key: string,
  files: readonly OutputFile[],
) {
  const missing = await unprovenBlobs(db, workspaceId, files);
  if (missing.length > 0) {
    throw new ApiError(
      'conflict',
      `${missing.length} blob(s) of the output have not been uploaded`,
      {
        missing,
      },
    );
  }
  // Blobs that went up in a batch are ranges of its pack: the manifest says where.
  const located = await packedLocations(
    db,
    files.map((file) => file.hash),
  );
  const manifest = withPacks(outputManifest(files), located);
  await env.SITES.put(key, JSON.stringify(ManifestSchema.parse(manifest)), {
    httpMetadata: { contentType: 'application/json' },
  });
  return { files: files.length, bytes: files.reduce((sum, file) => sum + file.size, 0) };
}
