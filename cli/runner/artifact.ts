import { stat } from 'node:fs/promises';
import { create } from 'tar';

export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

/**
 * Writes the build output to `archive` as a gzipped tarball (on disk, not in memory: outputs
 * run to hundreds of megabytes), paths relative to the output directory. Symbolic
 * links are stored as links, never followed: a build must not pack files from outside its
 * checkout (the runner's configuration, other jobs).
 */
export async function packOutput(outputDir: string, archive: string): Promise<number> {
  const info = await stat(outputDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ArtifactError(`the output directory ${outputDir} does not exist after the build`);
  }
  await create({ gzip: true, cwd: outputDir, file: archive, portable: true, follow: false }, ['.']);
  return (await stat(archive)).size;
}
