import { env } from 'cloudflare:test';
import { outputManifest } from '../../core/build-output';
import { blobHash, type Manifest, withPacks } from '../../core/hosting/manifest';
import { readTar, writeTar } from '../../core/tar';
import type { Database } from '../../db/client';
import { packedLocations, writePack } from '../../domain/hosting/blob-store';
import { blobKey } from '../../platform/storage-keys';

const encoder = new TextEncoder();

/** A .tar.gz of text files, the form a runner may upload build output in. */
export async function tarGz(files: Record<string, string>): Promise<Uint8Array> {
  const archive = writeTar(
    Object.entries(files).map(([path, text]) => ({ path, data: encoder.encode(text) })),
  );
  const stream = new Blob([archive]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A .tar.gz's files as text, by path: what an archive of the output holds. */
export async function textsOfTarGz(body: ReadableStream | Uint8Array) {
  const stream = (body instanceof Uint8Array ? new Blob([body]).stream() : body).pipeThrough(
    new DecompressionStream('gzip'),
  );
  const tar = new Uint8Array(await new Response(stream).arrayBuffer());
  const decoder = new TextDecoder();
  return Object.fromEntries(readTar(tar).map((file) => [file.path, decoder.decode(file.data)]));
}

/**
 * Text files stored as they are uploaded content-addressed: each blob in SITES under its hash (one
 * at a time), or, given the database, all in one pack (a runner's batch). Their manifest.
 */
export async function storeFiles(
  files: Record<string, string>,
  packedWith?: Database,
): Promise<Manifest> {
  const listed = await Promise.all(
    Object.entries(files).map(async ([path, text]) => {
      const bytes = encoder.encode(text);
      return { path, bytes, hash: await blobHash(bytes), size: bytes.byteLength };
    }),
  );
  const manifest = outputManifest(listed);
  if (!packedWith) {
    for (const { hash, bytes } of listed) await env.SITES.put(blobKey(hash), bytes);
    return manifest;
  }
  await writePack(env, packedWith, listed);
  const located = await packedLocations(
    packedWith,
    listed.map((file) => file.hash),
  );
  return withPacks(manifest, located);
}

/** `storeFiles` as a build's output. Its manifest's key, for `builds.output_manifest_key`. */
export async function storeContentAddressed(
  buildId: string,
  files: Record<string, string>,
  packedWith?: Database,
) {
  const key = `outputs/${buildId}.json`;
  await env.SITES.put(key, JSON.stringify(await storeFiles(files, packedWith)));
  return key;
}

/** Output files with their hashes; a unique marker in each keeps earlier tests' blobs apart. */
export async function outputOf(contents: Record<string, string>) {
  return Promise.all(
    Object.entries(contents).map(async ([path, text]) => ({
      path,
      text,
      hash: await blobHash(encoder.encode(text)),
      size: encoder.encode(text).byteLength,
    })),
  );
}
export type Listed = Awaited<ReturnType<typeof outputOf>>;

/** What the upload API is told about each file. */
export const describeFiles = (files: Listed) =>
  files.map(({ path, hash, size }) => ({ path, hash, size }));
