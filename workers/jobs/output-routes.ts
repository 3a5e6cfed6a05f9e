import { createRoute, z } from '@hono/zod-openapi';
import {
  BLOB_BATCH_MAX_BLOBS,
  BLOB_BATCH_MAX_BYTES,
  BLOB_MAX_BYTES,
  OutputFilesSchema,
  Sha256HexSchema,
} from '../../core/build-output';
import { recordBuildOutput } from '../../domain/builds/jobs';
import {
  commitUpload,
  missingUpload,
  storeBlob,
  storeBlobBatch,
} from '../../domain/hosting/uploads';
import { outputManifestKey } from '../../platform/storage-keys';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { authorizeJob } from './auth';

/** The file list of a large output runs past the API's usual 1 MiB body limit. */
export const OUTPUT_LIST_MAX_BYTES = 8 * 1024 * 1024;

const JobParams = z.object({ buildId: z.uuid() });
const BlobParams = JobParams.extend({ hash: Sha256HexSchema });

/** A blob upload's body: the bytes, as they are (with a `Content-Length`). */
export const blobBody = {
  required: true,
  content: {
    'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
  },
};

export const StoredBlobSchema = z
  .object({ hash: z.string(), size: z.number().int(), stored: z.boolean() })
  .openapi('StoredBlob');

/** A batch of small blobs: one file part per blob, named by its SHA-256. */
export const blobBatchBody = {
  required: true,
  content: {
    'multipart/form-data': {
      schema: z.record(z.string(), z.any().openapi({ type: 'string', format: 'binary' })).openapi({
        description: `Up to ${BLOB_BATCH_MAX_BLOBS} file parts, each named by its blob’s SHA-256; ${BLOB_BATCH_MAX_BYTES} bytes in all`,
      }),
    },
  },
};

export const StoredBlobsSchema = z
  .object({ blobs: z.array(StoredBlobSchema) })
  .openapi('StoredBlobs');

/** What a batch route says of itself, the job's and the project's alike. */
export const BLOB_BATCH_DESCRIPTION = `Many small blobs in one request (multipart/form-data, one file part per blob named by its SHA-256; at most ${BLOB_BATCH_MAX_BLOBS} blobs and ${BLOB_BATCH_MAX_BYTES} bytes, 413 past either). Each is checked and stored as the one-blob upload does it; a part that does not hash to its name, or is not a file, fails the request (400) naming it.`;

const jobAuth = {
  401: { description: 'No job token, a token for another build, or one whose lease has ended' },
};

export const outputRoutes = newRouter();

outputRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{buildId}/output/missing',
    tags: ['runner protocol'],
    summary: 'Which blobs of the build output the platform lacks',
    description:
      'The runner lists every output file with its SHA-256 and size; the answer names the blobs to upload (`PUT …/blobs/{hash}`). Files whose content this workspace already stored (an earlier build uploaded it, or a deployment published it) are not sent again; what other workspaces store is not taken into account.',
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
    const { project } = await authorizeJob(c, buildId);
    return c.json(await missingUpload(c.get('services').db(), project.workspaceId, files), 200);
  },
);

outputRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/{buildId}/blobs/{hash}',
    tags: ['runner protocol'],
    summary: 'Upload one blob of the build output, stored under its SHA-256',
    description: `Needs \`Content-Length\` (at most ${BLOB_MAX_BYTES} bytes). Storage checks the body against the hash in the path (400 when it differs), so a blob is never stored under another content's name. Uploading a blob that is already stored is harmless: it is not written again, but its body is still checked when this workspace has not uploaded it before.`,
    request: {
      params: BlobParams,
      body: blobBody,
    },
    responses: {
      200: {
        description: 'Stored (or already stored)',
        ...json(StoredBlobSchema),
      },
      ...jobAuth,
      413: { description: `Larger than ${BLOB_MAX_BYTES} bytes` },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId, hash } = c.req.valid('param');
    const { project } = await authorizeJob(c, buildId);
    const size = Number(c.req.header('content-length'));
    const stored = await storeBlob(c.env, c.get('services').db(), project.workspaceId, {
      hash,
      size,
      body: c.req.raw.body,
    });
    return c.json(stored, 200);
  },
);

outputRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{buildId}/blobs',
    tags: ['runner protocol'],
    summary: 'Upload many small blobs of the build output in one request',
    description: BLOB_BATCH_DESCRIPTION,
    request: { params: JobParams, body: blobBatchBody },
    responses: {
      200: {
        description: 'Stored (or already stored), in the order sent',
        ...json(StoredBlobsSchema),
      },
      ...jobAuth,
      413: { description: 'Too many blobs, or too many bytes, for one batch' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const { project } = await authorizeJob(c, buildId);
    return c.json(
      await storeBlobBatch(
        c.env,
        c.get('services').db(),
        project.workspaceId,
        await c.req.formData(),
      ),
      200,
    );
  },
);

outputRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/{buildId}/output',
    tags: ['runner protocol'],
    summary: 'Commit the build output: every listed blob must be stored',
    description:
      'Records the file list as the build’s output manifest, which deployments publish without copying a byte. A blob this workspace has not uploaded or published makes it 409 with the hashes in `details.missing`. Committing again replaces the earlier list.',
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
    const { claims, project } = await authorizeJob(c, buildId);
    const key = outputManifestKey(buildId);
    const { bytes } = await commitUpload(
      c.env,
      c.get('services').db(),
      project.workspaceId,
      key,
      files,
    );
    await recordBuildOutput(c.get('services').db(), buildId, claims.attempt, {
      outputManifestKey: key,
    });
    return c.json({ manifest_key: key, files: files.length, bytes }, 200);
  },
);

/** A blob upload streams to R2 and checks its own Content-Length against BLOB_MAX_BYTES. */
export function isBlobUpload(path: string): boolean {
  return /^\/api\/(jobs\/[^/]+|projects\/[^/]+\/uploads)\/blobs\/[^/]+$/.test(path);
}

/** A batch's body limit (re-exported so the app's router takes it from here, after zod-openapi). */
export { BLOB_BATCH_MAX_BYTES };

/** A batch of small blobs: its own body limit, BLOB_BATCH_MAX_BYTES. */
export function isBlobBatch(path: string): boolean {
  return /^\/api\/(jobs\/[^/]+|projects\/[^/]+\/uploads)\/blobs$/.test(path);
}

/** The output's file list, which may run past the API's usual body limit. */
export function isOutputList(path: string): boolean {
  return (
    /^\/api\/jobs\/[^/]+\/output(\/missing)?$/.test(path) ||
    /^\/api\/projects\/[^/]+\/uploads\/(missing|deploy)$/.test(path)
  );
}
