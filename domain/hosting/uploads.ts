import {
  BLOB_BATCH_MAX_BLOBS,
  BLOB_MAX_BYTES,
  type OutputFile,
  outputManifest,
  Sha256HexSchema,
} from '../../core/build-output';
import { blobName, ManifestSchema, missingBlobs } from '../../core/hosting/manifest';
import { ApiError } from '../../platform/errors';
import { blobKey, blobProofKey } from '../../platform/storage-keys';
import { provenBlobs, recordBlobProofs } from './publish';

/**
 * The content-addressed upload both runners (`/api/jobs/{id}/…`) and people (`sparki deploy
 * --prebuilt`, `/api/projects/{id}/uploads/…`) use: which blobs a workspace lacks, storing one,
 * and writing the file list as a manifest once every blob is there.
 */

/** The blobs of the listed output that the workspace has not proven it holds, sorted. */
export async function unprovenBlobs(
  env: Env,
  workspaceId: string,
  files: readonly OutputFile[],
): Promise<string[]> {
  const manifest = outputManifest(files);
  const hashes = [...new Set(files.map((file) => file.hash))];
  return missingBlobs(manifest, await provenBlobs(env, workspaceId, hashes));
}

/** `unprovenBlobs` with their total size, as the `…/missing` routes answer. */
export async function missingUpload(env: Env, workspaceId: string, files: readonly OutputFile[]) {
  const missing = await unprovenBlobs(env, workspaceId, files);
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

/**
 * Stores one blob under its hash for the workspace. `size` is the request's Content-Length;
 * the body must hash to `hash` (400 otherwise), and is not rewritten when already stored.
 */
export async function storeBlob(
  env: Env,
  workspaceId: string,
  hash: string,
  size: number,
  body: ReadableStream | null,
) {
  if (!Number.isSafeInteger(size) || size < 0 || (size > 0 && !body)) {
    throw new ApiError('bad_request', 'Send the blob as the body, with a Content-Length');
  }
  if (size > BLOB_MAX_BYTES) {
    throw new ApiError('payload_too_large', `A blob may be at most ${BLOB_MAX_BYTES} bytes`);
  }
  const mismatch = () => new ApiError('bad_request', `The body does not hash to ${hash}`);
  const [existing, proven] = await Promise.all([
    env.SITES.head(blobKey(hash)),
    env.SITES.head(blobProofKey(workspaceId, hash)),
  ]);
  if (existing && proven) {
    await body?.cancel();
    return { hash, size: existing.size, stored: false };
  }
  if (existing) {
    // Stored by another workspace (or before proofs were kept): the body must still hash to
    // the name before this workspace counts as holding it; the shared blob is not rewritten.
    if ((await digestOf(body, size)) !== hash) throw mismatch();
  } else {
    const value = body ? body.pipeThrough(new FixedLengthStream(size)) : new Uint8Array();
    try {
      // R2 refuses the write when the content does not match the checksum it is given.
      await env.SITES.put(blobKey(hash), value, { sha256: hash });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/checksum|digest/i.test(message)) throw mismatch();
      throw err;
    }
  }
  await recordBlobProofs(env, workspaceId, [hash]);
  return { hash, size: existing?.size ?? size, stored: !existing };
}

/** Blobs of a batch stored at once: R2 calls overlap, memory stays bounded by the batch. */
const BATCH_CONCURRENCY = 8;

/**
 * Stores a batch of blobs sent as multipart/form-data, one file part per blob named by its hash
 * (the body limit is the router's, BLOB_BATCH_MAX_BYTES). Each is checked as `storeBlob` checks
 * one; a part that fails fails the batch with its reason. Parts stored before it stay stored,
 * which is harmless: a blob is only ever stored under its own hash.
 */
export async function storeBlobBatch(env: Env, workspaceId: string, form: FormData) {
  const parts = [...form.entries()];
  if (parts.length === 0) throw new ApiError('bad_request', 'The batch has no blobs');
  if (parts.length > BLOB_BATCH_MAX_BLOBS) {
    throw new ApiError(
      'payload_too_large',
      `A batch may hold at most ${BLOB_BATCH_MAX_BLOBS} blobs; send the rest in another`,
    );
  }
  const blobs: { hash: string; file: File }[] = [];
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
    blobs.push({ hash: name, file: value });
  }
  const stored: Awaited<ReturnType<typeof storeBlob>>[] = [];
  for (let start = 0; start < blobs.length; start += BATCH_CONCURRENCY) {
    const slice = blobs.slice(start, start + BATCH_CONCURRENCY);
    stored.push(
      ...(await Promise.all(
        slice.map(({ hash, file }) => storeBlob(env, workspaceId, hash, file.size, file.stream())),
      )),
    );
  }
  return { blobs: stored };
}

/**
 * Writes the file list as the manifest at `key` once the workspace holds every blob; 409 with
 * the lacking hashes in `details.missing` otherwise. Its file count and total size.
 */
export async function commitUpload(
  env: Env,
  workspaceId: string,
  key: string,
  files: readonly OutputFile[],
) {
  const missing = await unprovenBlobs(env, workspaceId, files);
  if (missing.length > 0) {
    throw new ApiError(
      'conflict',
      `${missing.length} blob(s) of the output have not been uploaded`,
      {
        missing,
      },
    );
  }
  await env.SITES.put(key, JSON.stringify(ManifestSchema.parse(outputManifest(files))), {
    httpMetadata: { contentType: 'application/json' },
  });
  return { files: files.length, bytes: files.reduce((sum, file) => sum + file.size, 0) };
}
