import { createRoute, z } from '@hono/zod-openapi';
import {
  BLOB_MAX_BYTES,
  type OutputFile,
  OutputFilesSchema,
  outputManifest,
  Sha256HexSchema,
} from '../../core/build-output';
import { blobName, ManifestSchema, missingBlobs } from '../../core/hosting/manifest';
import { recordBuildOutput } from '../../domain/builds/jobs';
import { provenBlobs, recordBlobProofs } from '../../domain/hosting/publish';
import { ApiError } from '../../platform/errors';
import { blobKey, blobProofKey, outputManifestKey } from '../../platform/storage-keys';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { authorizeJob } from './auth';

/** The file list of a large output runs past the API's usual 1 MiB body limit. */
export const OUTPUT_LIST_MAX_BYTES = 8 * 1024 * 1024;

const JobParams = z.object({ buildId: z.uuid() });
const BlobParams = JobParams.extend({ hash: Sha256HexSchema });

const jobAuth = {
  401: { description: 'No job token, a token for another build, or one whose lease has ended' },
};

/** The blobs of the listed output that the workspace has not proven it holds, sorted. */
async function unprovenBlobs(
  env: Env,
  workspaceId: string,
  files: readonly OutputFile[],
): Promise<string[]> {
  const manifest = outputManifest(files);
  const hashes = [...new Set(files.map((file) => file.hash))];
  return missingBlobs(manifest, await provenBlobs(env, workspaceId, hashes));
}

/** The SHA-256 of a body of `size` bytes, read without holding it in memory. */
async function digestOf(body: ReadableStream | null, size: number): Promise<string> {
  const digest = new crypto.DigestStream('SHA-256');
  if (body) await body.pipeThrough(new FixedLengthStream(size)).pipeTo(digest);
  else await digest.getWriter().close();
  return blobName(await digest.digest);
}

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
    const missing = await unprovenBlobs(c.env, project.workspaceId, files);
    const sizes = new Map(files.map((file) => [file.hash, file.size]));
    const bytes = missing.reduce((sum, hash) => sum + (sizes.get(hash) ?? 0), 0);
    return c.json({ missing, bytes }, 200);
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
    const { project } = await authorizeJob(c, buildId);
    const size = Number(c.req.header('content-length'));
    const body = c.req.raw.body;
    if (!Number.isSafeInteger(size) || size < 0 || (size > 0 && !body)) {
      throw new ApiError('bad_request', 'Send the blob as the body, with a Content-Length');
    }
    if (size > BLOB_MAX_BYTES) {
      throw new ApiError('payload_too_large', `A blob may be at most ${BLOB_MAX_BYTES} bytes`);
    }
    const mismatch = () => new ApiError('bad_request', `The body does not hash to ${hash}`);
    const [existing, proven] = await Promise.all([
      c.env.SITES.head(blobKey(hash)),
      c.env.SITES.head(blobProofKey(project.workspaceId, hash)),
    ]);
    if (existing && proven) {
      await body?.cancel();
      return c.json({ hash, size: existing.size, stored: false }, 200);
    }
    if (existing) {
      // Stored by another workspace (or before proofs were kept): the body must still hash to
      // the name before this workspace counts as holding it; the shared blob is not rewritten.
      if ((await digestOf(body, size)) !== hash) throw mismatch();
    } else {
      const value = body ? body.pipeThrough(new FixedLengthStream(size)) : new Uint8Array();
      try {
        // R2 refuses the write when the content does not match the checksum it is given.
        await c.env.SITES.put(blobKey(hash), value, { sha256: hash });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (/checksum|digest/i.test(message)) throw mismatch();
        throw err;
      }
    }
    await recordBlobProofs(c.env, project.workspaceId, [hash]);
    return c.json({ hash, size: existing?.size ?? size, stored: !existing }, 200);
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
    const missing = await unprovenBlobs(c.env, project.workspaceId, files);
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
    await recordBuildOutput(c.get('services').db(), buildId, claims.attempt, {
      outputManifestKey: key,
    });
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
