import { createRoute, z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import {
  BLOB_MAX_BYTES,
  type OutputFile,
  OutputFilesSchema,
  outputManifest,
  Sha256HexSchema,
} from '../../core/build-output';
import { ManifestSchema, missingBlobs } from '../../core/hosting/manifest';
import { builds } from '../../db/schema';
import { storedBlobs } from '../../queues/deploy/edge-publish';
import { ApiError, openApiErrorResponses } from '../errors';
import { blobKey } from '../hosting/routes';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { authorizeJob } from './auth';

/** The file list of a large output runs past the API's usual 1 MiB body limit. */
export const OUTPUT_LIST_MAX_BYTES = 8 * 1024 * 1024;

export function outputManifestKey(buildId: string): string {
  return `outputs/${buildId}.json`;
}

const JobParams = z.object({ buildId: z.uuid() });
const BlobParams = JobParams.extend({ hash: Sha256HexSchema });

const jobAuth = {
  401: { description: 'No job token, a token for another build, or one whose lease has ended' },
};

/** The blobs of the listed output that SITES lacks, sorted. */
async function absentBlobs(env: Env, files: readonly OutputFile[]): Promise<string[]> {
  const manifest = outputManifest(files);
  const hashes = [...new Set(files.map((file) => file.hash))];
  return missingBlobs(manifest, await storedBlobs(env, hashes));
}

export const outputRoutes = newRouter();

outputRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/jobs/{buildId}/output/missing',
    tags: ['runner protocol'],
    summary: 'Which blobs of the build output the platform lacks',
    description:
      'The runner lists every output file with its SHA-256 and size; the answer names the blobs to upload (`PUT …/blobs/{hash}`). Files whose content is already stored, by this or any earlier build, are not sent again.',
    request: { params: JobParams, ...jsonBody(OutputFilesSchema) },
    responses: {
      200: {
        description: 'The blobs to upload and their total size',
        ...json(z.object({ missing: z.array(z.string()), bytes: z.number().int() })),
      },
      ...jobAuth,
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const { files } = c.req.valid('json');
    await authorizeJob(c, buildId);
    const missing = await absentBlobs(c.env, files);
    const sizes = new Map(files.map((file) => [file.hash, file.size]));
    const bytes = missing.reduce((sum, hash) => sum + (sizes.get(hash) ?? 0), 0);
    return c.json({ missing, bytes }, 200);
  },
);

outputRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/api/jobs/{buildId}/blobs/{hash}',
    tags: ['runner protocol'],
    summary: 'Upload one blob of the build output, stored under its SHA-256',
    description: `Needs \`Content-Length\` (at most ${BLOB_MAX_BYTES} bytes). Storage checks the body against the hash in the path (400 when it differs), so a blob is never stored under another content's name. Uploading a blob that is already stored is harmless.`,
    request: {
      params: BlobParams,
      body: {
        required: true,
        content: {
          'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
        },
      },
    },
    responses: {
      200: {
        description: 'Stored (or already stored)',
        ...json(z.object({ hash: z.string(), size: z.number().int(), stored: z.boolean() })),
      },
      ...jobAuth,
      413: { description: `Larger than ${BLOB_MAX_BYTES} bytes` },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId, hash } = c.req.valid('param');
    await authorizeJob(c, buildId);
    const size = Number(c.req.header('content-length'));
    const body = c.req.raw.body;
    if (!Number.isSafeInteger(size) || size < 0 || (size > 0 && !body)) {
      throw new ApiError('bad_request', 'Send the blob as the body, with a Content-Length');
    }
    if (size > BLOB_MAX_BYTES) {
      throw new ApiError('payload_too_large', `A blob may be at most ${BLOB_MAX_BYTES} bytes`);
    }
    const existing = await c.env.SITES.head(blobKey(hash));
    if (existing) {
      await body?.cancel();
      return c.json({ hash, size: existing.size, stored: false }, 200);
    }
    const value = body ? body.pipeThrough(new FixedLengthStream(size)) : new Uint8Array();
    try {
      // R2 refuses the write when the content does not match the checksum it is given.
      await c.env.SITES.put(blobKey(hash), value, { sha256: hash });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/checksum|digest/i.test(message)) {
        throw new ApiError('bad_request', `The body does not hash to ${hash}`);
      }
      throw err;
    }
    return c.json({ hash, size, stored: true }, 200);
  },
);

outputRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/api/jobs/{buildId}/output',
    tags: ['runner protocol'],
    summary: 'Commit the build output: every listed blob must be stored',
    description:
      'Records the file list as the build’s output manifest, which deployments publish without copying a byte. A blob still missing makes it 409 with the hashes in `details.missing`. Committing again replaces the earlier list.',
    request: { params: JobParams, ...jsonBody(OutputFilesSchema) },
    responses: {
      200: {
        description: 'Committed',
        ...json(
          z.object({
            manifest_key: z.string(),
            files: z.number().int(),
            bytes: z.number().int(),
          }),
        ),
      },
      ...jobAuth,
      409: { description: 'Some blobs have not been uploaded' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const { files } = c.req.valid('json');
    const { claims } = await authorizeJob(c, buildId);
    const missing = await absentBlobs(c.env, files);
    if (missing.length > 0) {
      throw new ApiError(
        'conflict',
        `${missing.length} blob(s) of the output have not been uploaded`,
        { missing },
      );
    }
    const key = outputManifestKey(buildId);
    await c.env.SITES.put(key, JSON.stringify(ManifestSchema.parse(outputManifest(files))), {
      httpMetadata: { contentType: 'application/json' },
    });
    await c
      .get('services')
      .db()
      .update(builds)
      .set({ outputManifestKey: key })
      .where(and(eq(builds.id, buildId), eq(builds.attempt, claims.attempt)));
    const bytes = files.reduce((sum, file) => sum + file.size, 0);
    return c.json({ manifest_key: key, files: files.length, bytes }, 200);
  },
);

/** A blob upload streams to R2 and checks its own Content-Length against BLOB_MAX_BYTES. */
export function isBlobUpload(path: string): boolean {
  return /^\/api\/jobs\/[^/]+\/blobs\/[^/]+$/.test(path);
}

/** The output's file list, which may run past the API's usual body limit. */
export function isOutputList(path: string): boolean {
  return /^\/api\/jobs\/[^/]+\/output(\/missing)?$/.test(path);
}
