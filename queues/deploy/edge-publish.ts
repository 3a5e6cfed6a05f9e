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

async function storeManifest(env: Env, deploymentId: string, manifest: Manifest) {
  const manifestKey = manifestKeyFor(deploymentId);
  await env.SITES.put(manifestKey, JSON.stringify(ManifestSchema.parse(manifest)), {
    httpMetadata: { contentType: 'application/json' },
  });
  return manifestKey;
}

/** The manifest a runner committed for its build's output (path → blob). */
export async function readOutputManifest(env: Env, outputManifestKey: string): Promise<Manifest> {
  const object = await env.SITES.get(outputManifestKey);
  if (!object) throw new ArtifactError(`The build output ${outputManifestKey} is not in storage`);
  const parsed = ManifestSchema.safeParse(await object.json().catch(() => null));
  if (!parsed.success) throw new ArtifactError('The build output manifest is not valid');
  return parsed.data;
}

/** One blob's bytes, or an error naming the file that needs it. */
export async function readBlob(env: Env, hash: string, path: string): Promise<Uint8Array> {
  const blob = await env.SITES.get(blobKey(hash));
  if (!blob) throw new ArtifactError(`The build output lacks the content of ${path}`);
  return new Uint8Array(await blob.arrayBuffer());
}

/**
 * A build whose runner uploaded its output content-addressed: the blobs are stored already, so
 * the deployment's manifest is the build's with the deployment's options, and nothing is copied.
 */
export async function publishOutputManifest(
  env: Env,
  outputManifestKey: string,
  deploymentId: string,
  options: { spa: boolean },
): Promise<Published> {
  const manifest = await readOutputManifest(env, outputManifestKey);
  const hashes = [...new Set(Object.values(manifest.files).map((file) => file.hash))];
  for (const hash of hashes) {
    if (!(await env.SITES.head(blobKey(hash)))) {
      throw new ArtifactError(`The build output lacks blob ${hash}`);
    }
  }
  const files = Object.keys(manifest.files).length;
  if (files === 0) throw new ArtifactError('The build output is empty');
  const manifestKey = await storeManifest(env, deploymentId, { ...manifest, spa: options.spa });
  return { manifestKey, files, uploaded: 0 };
}

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
  const manifestKey = await storeManifest(env, deploymentId, manifest);
  return { manifestKey, files: files.length, uploaded };
}
