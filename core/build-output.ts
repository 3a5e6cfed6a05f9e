import { z } from 'zod';
import type { Manifest } from './hosting/manifest';

/**
 * A build's output, uploaded content-addressed: the runner lists every file with its SHA-256,
 * the platform answers which blobs it lacks, the runner sends only those, then the list is
 * committed as the build's output manifest. docs/runner-protocol.md shows the exchange.
 */

export const OUTPUT_MAX_FILES = 20_000;
export const OUTPUT_MAX_BYTES = 512 * 1024 * 1024;
/** One blob per request: under the Workers request body limit of every plan. */
export const BLOB_MAX_BYTES = 95 * 1024 * 1024;
/**
 * Small blobs travel many to a request (`POST …/blobs`: multipart/form-data, one part per blob,
 * named by its hash), so one authorization and one round trip serve them all.
 */
export const BLOB_BATCH_MAX_BYTES = 8 * 1024 * 1024;
export const BLOB_BATCH_MAX_BLOBS = 256;

export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase SHA-256 hex digest');

/**
 * Why a path cannot be served, or null. Paths are relative to the output root and `/`-separated;
 * anything that could climb out of it or mean two things to two parsers is refused.
 */
export function outputPathProblem(path: string): string | null {
  if (path.length === 0 || path.length > 1023) return 'must be 1 to 1023 characters';
  if (path.startsWith('/')) return 'must be relative (no leading /)';
  if (path.includes('\\')) return 'must use / as separator';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'must not contain control characters';
  const segments = path.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return 'must not contain empty, . or .. segments';
  }
  return null;
}

const OutputFileSchema = z.object({
  path: z.string().superRefine((path, ctx) => {
    const problem = outputPathProblem(path);
    if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(path)} ${problem}` });
  }),
  hash: Sha256HexSchema,
  size: z.number().int().nonnegative().max(BLOB_MAX_BYTES),
});
export type OutputFile = z.infer<typeof OutputFileSchema>;

/** `POST /api/jobs/{buildId}/output/missing` and `PUT /api/jobs/{buildId}/output`. */
export const OutputFilesSchema = z
  .object({ files: z.array(OutputFileSchema).min(1).max(OUTPUT_MAX_FILES) })
  .superRefine(({ files }, ctx) => {
    const seen = new Set<string>();
    const sizes = new Map<string, number>();
    let total = 0;
    for (const [index, file] of files.entries()) {
      if (seen.has(file.path)) {
        ctx.addIssue({
          code: 'custom',
          path: ['files', index, 'path'],
          message: `${file.path} is listed twice`,
        });
      }
      seen.add(file.path);
      const known = sizes.get(file.hash);
      if (known !== undefined && known !== file.size) {
        ctx.addIssue({
          code: 'custom',
          path: ['files', index, 'size'],
          message: `blob ${file.hash} is listed with two sizes`,
        });
      }
      sizes.set(file.hash, file.size);
      total += file.size;
    }
    if (total > OUTPUT_MAX_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['files'],
        message: `the output totals ${total} bytes, over the ${OUTPUT_MAX_BYTES} byte limit`,
      });
    }
  });
export type OutputFiles = z.infer<typeof OutputFilesSchema>;

/** The output as an edge-host manifest (the deployment sets `spa` when it publishes it). */
export function outputManifest(files: readonly OutputFile[]): Manifest {
  return {
    version: 1,
    files: Object.fromEntries(
      files.map((file) => [`/${file.path}`, { hash: file.hash, size: file.size }]),
    ),
    spa: false,
  };
}
