import { env } from 'cloudflare:test';
import { outputManifest } from '../../core/build-output';
import { blobHash } from '../../core/hosting/manifest';
import { writeTar } from '../../core/tar';
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

/**
 * Text files stored as the runner uploads them content-addressed: each blob in SITES under its
 * hash, and the output manifest. Returns the manifest's key, for `builds.output_manifest_key`.
 */
export async function storeContentAddressed(buildId: string, files: Record<string, string>) {
  const listed = await Promise.all(
    Object.entries(files).map(async ([path, text]) => {
      const bytes = encoder.encode(text);
      const hash = await blobHash(bytes);
      await env.SITES.put(blobKey(hash), bytes);
      return { path, hash, size: bytes.byteLength };
    }),
  );
  const key = `outputs/${buildId}.json`;
  await env.SITES.put(key, JSON.stringify(outputManifest(listed)));
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
