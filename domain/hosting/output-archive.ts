import type { Manifest } from '../../core/hosting/manifest';
import { TAR_END, tarFileHeader, tarPadding } from '../../core/tar';
import type { Build } from '../../db/schema';
import { openBlob } from './blob-store';
import { ArtifactError, findOutputManifest } from './publish';

/** A build's output as one gzipped tar, ready to stream. */
export interface OutputArchive {
  body: ReadableStream<Uint8Array>;
  /** Known for an uploaded archive; a tar assembled from blobs is streamed as it is made. */
  size?: number;
  etag: string;
}

/** Header, content and padding of every file, read blob by blob as the consumer pulls. */
async function* tarOf(env: Env, manifest: Manifest): AsyncGenerator<Uint8Array> {
  const paths = Object.keys(manifest.files).sort();
  for (const path of paths) {
    const file = manifest.files[path]!;
    yield* tarFileHeader(path.slice(1), file.size);
    const blob = await openBlob(env.SITES, manifest, file);
    if (!blob) throw new ArtifactError(`The build output lacks the content of ${path}`);
    const reader = blob.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      yield chunk.value;
    }
    yield tarPadding(file.size);
  }
  yield TAR_END;
}

function streamOf(chunks: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

/**
 * The build's output as a .tar.gz, or null when it has none: what the signed download route
 * serves and deploy receivers fetch. An output uploaded content-addressed is assembled from its
 * blobs on the fly (nothing is stored twice); one uploaded as an archive is served as it is.
 */
export async function openOutputArchive(
  env: Env,
  build: Pick<Build, 'artifactKey' | 'outputManifestKey'>,
): Promise<OutputArchive | null> {
  if (build.outputManifestKey) {
    const found = await findOutputManifest(env, build.outputManifestKey);
    if (!found) return null;
    const { manifest, etag } = found;
    return {
      body: streamOf(tarOf(env, manifest)).pipeThrough(
        new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>,
      ),
      etag,
    };
  }
  if (!build.artifactKey) return null;
  const object = await env.ARTIFACTS.get(build.artifactKey);
  if (!object) return null;
  return { body: object.body, size: object.size, etag: object.httpEtag };
}
