import { blobHash, type Manifest, ManifestSchema } from '../../core/hosting/manifest';
import { readTar } from '../../core/tar';
import { blobKey } from '../../workers/hosting/routes';

export interface Published {
  manifestKey: string;
  files: number;
  /** Blobs written now; the rest were already stored by an earlier deployment. */
  uploaded: number;
}

export class ArtifactError extends Error {}

async function gunzip(body: ReadableStream): Promise<Uint8Array> {
  const stream = body.pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The files of a build's output (a gzipped tar in ARTIFACTS), refusing a missing or empty one. */
export async function readArtifact(env: Env, artifactKey: string) {
  const object = await env.ARTIFACTS.get(artifactKey);
  if (!object) throw new ArtifactError(`The build output ${artifactKey} is not in storage`);
  let files: ReturnType<typeof readTar>;
  try {
    files = readTar(await gunzip(object.body));
  } catch (err) {
    throw new ArtifactError(
      `The build output is not a valid .tar.gz: ${err instanceof Error ? err.message : err}`,
    );
  }
  if (files.length === 0) throw new ArtifactError('The build output is empty');
  return files;
}

export const manifestKeyFor = (deploymentId: string) => `manifests/${deploymentId}.json`;

/**
 * Turns a build's output (a gzipped tar in ARTIFACTS) into the edge host's form: one blob per
 * distinct content under its hash, uploaded only when the store lacks it, and a manifest.
 */
export async function publishArtifact(
  env: Env,
  artifactKey: string,
  deploymentId: string,
  options: { spa: boolean },
): Promise<Published> {
  const files = await readArtifact(env, artifactKey);
  const manifest: Manifest = { version: 1, files: {}, spa: options.spa };
  let uploaded = 0;
  for (const file of files) {
    const hash = await blobHash(file.data);
    manifest.files[`/${file.path}`] = { hash, size: file.data.byteLength };
    if (await env.SITES.head(blobKey(hash))) continue;
    await env.SITES.put(blobKey(hash), file.data);
    uploaded++;
  }
  const manifestKey = manifestKeyFor(deploymentId);
  await env.SITES.put(manifestKey, JSON.stringify(ManifestSchema.parse(manifest)), {
    httpMetadata: { contentType: 'application/json' },
  });
  return { manifestKey, files: files.length, uploaded };
}
