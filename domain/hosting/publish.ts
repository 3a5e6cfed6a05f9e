import { chunks } from '../../core/chunks';
import { blobHash, type Manifest, ManifestSchema } from '../../core/hosting/manifest';
import { readTar } from '../../core/tar';
import type { Database } from '../../db/client';
import { blobKey, deploymentManifestKey } from '../../platform/storage-keys';
import { provenBlobs, recordBlobProofs } from './blob-proofs';
import { openBlob } from './blob-store';

export interface Published {
  manifestKey: string;
  files: number;
  /** Blobs written now; the rest were already stored by an earlier deployment. */
  uploaded: number;
}

export class ArtifactError extends Error {}

export interface PublishOptions {
  spa: boolean;
  /** The deployment's workspace, which is recorded as holding the published blobs. */
  workspaceId: string;
}

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

async function storeManifest(env: Env, deploymentId: string, manifest: Manifest) {
  const manifestKey = deploymentManifestKey(deploymentId);
  await env.SITES.put(manifestKey, JSON.stringify(ManifestSchema.parse(manifest)), {
    httpMetadata: { contentType: 'application/json' },
  });
  return manifestKey;
}

/** The manifest a runner committed for its build's output (path → blob), or null when absent. */
export async function findOutputManifest(
  env: Env,
  outputManifestKey: string,
): Promise<{ manifest: Manifest; etag: string } | null> {
  const object = await env.SITES.get(outputManifestKey);
  if (!object) return null;
  const parsed = ManifestSchema.safeParse(await object.json().catch(() => null));
  if (!parsed.success) throw new ArtifactError('The build output manifest is not valid');
  return { manifest: parsed.data, etag: object.httpEtag };
}

/** The build's output manifest, which must be there. */
export async function readOutputManifest(env: Env, outputManifestKey: string): Promise<Manifest> {
  const found = await findOutputManifest(env, outputManifestKey);
  if (!found) throw new ArtifactError(`The build output ${outputManifestKey} is not in storage`);
  return found.manifest;
}

// R2 answers at most a few hundred operations in flight; this keeps a big listing well under.
const R2_CONCURRENCY = 32;

/** The blobs among `hashes` that SITES holds, for any workspace. */
export async function storedBlobs(env: Env, hashes: readonly string[]): Promise<Set<string>> {
  const heads: (R2Object | null)[] = [];
  for (const slice of chunks(hashes, R2_CONCURRENCY)) {
    heads.push(...(await Promise.all(slice.map((hash) => env.SITES.head(blobKey(hash))))));
  }
  return new Set(hashes.filter((_, index) => heads[index]));
}

/** The bytes of the manifest's file at `path` (`/…`), or an error naming it. */
export async function readBlob(env: Env, manifest: Manifest, path: string): Promise<Uint8Array> {
  const file = manifest.files[path];
  const blob = file && (await openBlob(env.SITES, manifest, file));
  if (!blob) throw new ArtifactError(`The build output lacks the content of ${path}`);
  return new Uint8Array(await new Response(blob).arrayBuffer());
}

/**
 * A build whose runner uploaded its output content-addressed: the blobs are stored already, so
 * the deployment's manifest is the build's with the deployment's options, and nothing is copied.
 */
export async function publishOutputManifest(
  env: Env,
  db: Database,
  outputManifestKey: string,
  deploymentId: string,
  options: PublishOptions,
): Promise<Published> {
  const manifest = await readOutputManifest(env, outputManifestKey);
  const hashes = [...new Set(Object.values(manifest.files).map((file) => file.hash))];
  const proven = await provenBlobs(db, options.workspaceId, hashes);
  // Output committed before proofs were kept has none: its blobs are checked in the shared
  // store and recorded for the workspace, whose deployments published them all along.
  const unproven = hashes.filter((hash) => !proven.has(hash));
  const stored = await storedBlobs(env, unproven);
  const [lacking] = unproven.filter((hash) => !stored.has(hash)).sort();
  if (lacking) throw new ArtifactError(`The build output lacks blob ${lacking}`);
  await recordBlobProofs(db, options.workspaceId, unproven);
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
  db: Database,
  artifactKey: string,
  deploymentId: string,
  options: PublishOptions,
): Promise<Published> {
  const files = await readArtifact(env, artifactKey);
  const manifest: Manifest = { version: 1, files: {}, spa: options.spa };
  const contents = new Map<string, Uint8Array>();
  for (const file of files) {
    const hash = await blobHash(file.data);
    manifest.files[`/${file.path}`] = { hash, size: file.data.byteLength };
    contents.set(hash, file.data);
  }
  const proven = await provenBlobs(db, options.workspaceId, [...contents.keys()]);
  const unproven = [...contents.keys()].filter((hash) => !proven.has(hash));
  const stored = await storedBlobs(env, unproven);
  let uploaded = 0;
  for (const hash of unproven) {
    if (stored.has(hash)) continue;
    await env.SITES.put(blobKey(hash), contents.get(hash)!);
    uploaded++;
  }
  // Recorded after the blobs are written, so a proof stands for its blob.
  await recordBlobProofs(db, options.workspaceId, unproven);
  const manifestKey = await storeManifest(env, deploymentId, manifest);
  return { manifestKey, files: files.length, uploaded };
}
