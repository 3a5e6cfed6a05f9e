import { createRoute, z } from '@hono/zod-openapi';
import { BLOB_MAX_BYTES, OutputFilesSchema, Sha256HexSchema } from '../../../core/build-output';
import { recordUploadedBuild } from '../../../domain/builds/upload';
import { queueDeployment } from '../../../domain/deployments/queries';
import { environmentOfKind } from '../../../domain/environments/environments';
import {
  commitUpload,
  missingUpload,
  storeBlob,
  storeBlobBatch,
} from '../../../domain/hosting/uploads';
import { recordBuildEnd } from '../../../domain/metrics/record';
import { ApiError } from '../../../platform/errors';
import { outputManifestKey } from '../../../platform/storage-keys';
import { auditFor } from '../../audit';
import { authorizeProject, loadProject } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import {
  BLOB_BATCH_DESCRIPTION,
  blobBatchBody,
  blobBody,
  StoredBlobSchema,
  StoredBlobsSchema,
} from '../../jobs/output-routes';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import { BuildSchema, toBuild } from '../builds/schemas';
import { DeploymentSchema, toDeployment } from '../deployments/schemas';
import { BranchSchema, ProjectParams } from './schemas';

const BlobParams = ProjectParams.extend({ hash: Sha256HexSchema });

const UploadFilesSchema = OutputFilesSchema.openapi('UploadFiles');

const DeployUploadSchema = z
  .object({
    files: UploadFilesSchema.shape.files,
    production: z.boolean().default(false),
    branch: BranchSchema.optional().openapi({
      description:
        'Recorded on the build; defaults to the production branch for production, `cli` otherwise',
    }),
    commit_sha: z
      .string()
      .regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'a full lowercase commit sha')
      .optional(),
    message: z
      .string()
      .max(1000)
      .optional()
      .openapi({ description: 'Recorded as the build’s commit message' }),
  })
  .openapi('DeployUpload');

/**
 * `/api/projects/{id}/uploads/…`: a person’s prebuilt output (`sparki deploy --prebuilt`),
 * uploaded content-addressed like a runner’s (only blobs the workspace lacks are sent) and
 * deployed without a runner.
 */
export const projectUploadRoutes = newRouter();

projectUploadRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/uploads/missing',
    tags: ['deployments'],
    summary: 'Which blobs of a prebuilt output the platform lacks (developer)',
    description:
      'List every file with its SHA-256 and size; the answer names the blobs to send (`PUT …/uploads/blobs/{hash}`). Content this workspace already stored is not sent again.',
    request: { params: ProjectParams, ...jsonBody(UploadFilesSchema) },
    responses: {
      200: {
        description: 'The blobs to upload and their total size',
        ...json(
          z
            .object({ missing: z.array(z.string()), bytes: z.number().int() })
            .openapi('MissingBlobs'),
        ),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { files } = c.req.valid('json');
    const { workspaceId } = await authorizeProject(c, id, 'developer');
    return c.json(await missingUpload(c.get('services').db(), workspaceId, files), 200);
  },
);

projectUploadRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/{id}/uploads/blobs/{hash}',
    tags: ['deployments'],
    summary: 'Upload one blob of a prebuilt output, stored under its SHA-256 (developer)',
    description: `Needs \`Content-Length\` (at most ${BLOB_MAX_BYTES} bytes); a body that does not hash to \`hash\` is refused (400).`,
    request: {
      params: BlobParams,
      body: blobBody,
    },
    responses: {
      200: {
        description: 'Stored (or already stored)',
        ...json(StoredBlobSchema),
      },
      413: { description: `Larger than ${BLOB_MAX_BYTES} bytes` },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, hash } = c.req.valid('param');
    const { workspaceId } = await authorizeProject(c, id, 'developer');
    const size = Number(c.req.header('content-length'));
    const upload = { hash, size, body: c.req.raw.body };
    return c.json(await storeBlob(c.env, c.get('services').db(), workspaceId, upload), 200);
  },
);

projectUploadRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/uploads/blobs',
    tags: ['deployments'],
    summary: 'Upload many small blobs of a prebuilt output in one request (developer)',
    description: BLOB_BATCH_DESCRIPTION,
    request: { params: ProjectParams, body: blobBatchBody },
    responses: {
      200: {
        description: 'Stored (or already stored), in the order sent',
        ...json(StoredBlobsSchema),
      },
      413: { description: 'Too many blobs, or too many bytes, for one batch' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { workspaceId } = await authorizeProject(c, id, 'developer');
    return c.json(
      await storeBlobBatch(c.env, c.get('services').db(), workspaceId, await c.req.formData()),
      200,
    );
  },
);

projectUploadRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/uploads/deploy',
    tags: ['deployments'],
    summary: 'Deploy an uploaded prebuilt output to preview or production (developer)',
    description:
      'Every listed blob must be uploaded first (409 with `details.missing` otherwise). Records a succeeded build of trigger `api` with the file list as its output, and queues its deployment to the project’s preview (or, with `production`, production) environment.',
    request: { params: ProjectParams, ...jsonBody(DeployUploadSchema) },
    responses: {
      202: {
        description: 'The build and its queued deployment',
        ...json(
          z
            .object({
              build: BuildSchema,
              deployment: DeploymentSchema,
              files: z.number().int(),
              bytes: z.number().int(),
            })
            .openapi('UploadDeployment'),
        ),
      },
      409: { description: 'Some blobs have not been uploaded' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const { row: project, access } = await loadProject(c, id, 'developer');
    const db = c.get('services').db();
    const stage = input.production ? 'production' : 'preview';
    const environment = await environmentOfKind(db, id, stage);
    if (!environment) {
      throw new ApiError('not_found', `The project has no ${stage} environment`);
    }
    const buildId = crypto.randomUUID();
    const key = outputManifestKey(buildId);
    const { files, bytes } = await commitUpload(c.env, db, access.workspaceId, key, input.files);
    const build = await recordUploadedBuild(db, {
      id: buildId,
      projectId: id,
      branch: input.branch ?? (input.production ? project.productionBranch : 'cli'),
      commitSha: input.commit_sha ?? null,
      commitMessage: input.message ?? null,
      target: stage,
      outputManifestKey: key,
    });
    recordBuildEnd(c.get('services').metrics, build, access.workspaceId);
    const deployment = await queueDeployment(
      c.env,
      db,
      {
        requestKey: `upload:${build.id}`,
        buildId: build.id,
        projectId: id,
        environmentId: environment.id,
        stage,
        strategy: environment.strategy,
      },
      auditFor(c, access),
      'deployment.requested',
      { build_id: build.id, stage, source: 'upload' },
    );
    return c.json(
      { build: toBuild(build), deployment: toDeployment(deployment), files, bytes },
      202,
    );
  },
);
