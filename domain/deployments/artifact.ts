import { signArtifactUrl } from '../../core/artifact-url';
import type { Build } from '../../db/schema';
import type { TaskContext } from '../../platform/services';
import { ArtifactError, readArtifact, readBlob, readOutputManifest } from '../hosting/publish';
import type { Artifact } from './adapters';

/** The output's files, from its manifest (read blob by blob on demand) or its archive. */
async function outputFilesOf(env: Env, build: Build) {
  if (build.outputManifestKey) {
    const manifest = await readOutputManifest(env, build.outputManifestKey);
    return Object.entries(manifest.files).map(([path, file]) => ({
      path: path.slice(1),
      size: file.size,
      read: () => readBlob(env, manifest, path),
    }));
  }
  const files = build.artifactKey ? await readArtifact(env, build.artifactKey) : [];
  return files.map((file) => ({
    path: file.path,
    size: file.data.byteLength,
    read: async () => file.data,
  }));
}

/**
 * The build as an adapter sees it: its commit, its image (the environment's template filled in),
 * a signed link to download its output, and its output files, read on demand.
 */
export async function artifactOf(
  context: TaskContext,
  build: Build,
  image: string | undefined,
): Promise<Artifact> {
  const { ENCRYPTION_KEY, PUBLIC_URL } = context.services.config;
  const files = await outputFilesOf(context.env, build);
  const downloadUrl =
    build.artifactKey || build.outputManifestKey
      ? await signArtifactUrl({
          encryptionKey: ENCRYPTION_KEY,
          publicUrl: PUBLIC_URL,
          buildId: build.id,
        })
      : undefined;
  return {
    buildId: build.id,
    ...(build.commitSha ? { commitSha: build.commitSha } : {}),
    ...(image ? { image } : {}),
    ...(downloadUrl ? { downloadUrl } : {}),
    files: files.map(({ path, size }) => ({ path, size })),
    async read(path) {
      const file = files.find((candidate) => candidate.path === path);
      if (!file) throw new ArtifactError(`The build output has no ${path}`);
      return file.read();
    },
  };
}
