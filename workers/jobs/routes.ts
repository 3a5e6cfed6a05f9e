import { createRoute, z } from '@hono/zod-openapi';
import { resolveProjectSettings } from '../../core/project-settings';
import {
  JobResultSchema,
  JobSpecSchema,
  LogBatchSchema,
  StepReportSchema,
} from '../../core/runner-protocol';
import { loadJobEnvironment } from '../../domain/builds/environment';
import {
  appendJobLog,
  completeJob,
  recordBuildOutput,
  reportSteps,
} from '../../domain/builds/jobs';
import { ARTIFACT_MAX_BYTES } from '../../domain/builds/limits';
import { checkoutAuthFor } from '../../domain/github-app/checkout-auth';
import { ApiError } from '../../platform/errors';
import { artifactKey } from '../../platform/storage-keys';
import { openApiErrorResponses } from '../errors';
import { traceparentOf } from '../middleware/trace';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { authorizeJob } from './auth';

const JobParams = z.object({ buildId: z.uuid() });

const jobAuth = {
  401: { description: 'No job token, a token for another build, or one whose lease has ended' },
};

/** The artifact upload streams to R2 and has its own size cap, above the API's body limit. */
export function isArtifactUpload(path: string): boolean {
  return /^\/api\/jobs\/[^/]+\/artifact$/.test(path);
}

export const jobRoutes = newRouter();

jobRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{buildId}',
    tags: ['runner protocol'],
    summary: 'The job spec for the runner holding the lease (job token)',
    description:
      'Repository, commit, build number, root directory, the target environment’s variables with secrets decrypted, the names of the secrets to mask, its image template (for builds that push an image), detection overrides, time limits, the trace context (`traceparent`) the attempt’s spans continue, and `checkout_auth`: for a project connected through the GitHub App, a fresh installation token that reads only this repository (null otherwise, or when it could not be minted).',
    request: { params: JobParams },
    responses: {
      200: { description: 'The spec', ...json(JobSpecSchema) },
      ...jobAuth,
      409: { description: 'The project has no repository URL' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const { build, project } = await authorizeJob(c, buildId);
    if (!project.repoUrl) throw new ApiError('conflict', 'The project has no repository URL');
    const { db, config } = c.get('services');
    const environment = await loadJobEnvironment(
      db(),
      config.ENCRYPTION_KEY,
      project.id,
      build.target,
    );
    const settings = resolveProjectSettings(project.settings);
    const checkoutAuth = await checkoutAuthFor(
      {
        encryptionKey: config.ENCRYPTION_KEY,
        fetch: (request) => fetch(request),
        logger: c.get('logger'),
      },
      project,
    );
    c.header('Cache-Control', 'no-store');
    return c.json(
      {
        build_id: build.id,
        project_id: project.id,
        attempt: build.attempt,
        repo_url: project.repoUrl,
        commit_sha: build.commitSha,
        branch: build.branch,
        build_number: build.number,
        image_template: environment.imageTemplate,
        root_dir: project.rootDir,
        env: environment.env,
        secret_names: environment.secretNames,
        overrides: settings.overrides,
        limits: {
          build_timeout_ms: settings.build_timeout_ms,
          step_timeout_ms: settings.step_timeout_ms,
        },
        traceparent: build.traceparent,
        checkout_auth: checkoutAuth,
      },
      200,
    );
  },
);

jobRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{buildId}/logs',
    tags: ['runner protocol'],
    summary: 'Append log lines, in the order they were produced',
    description:
      'The project’s secret values are masked again here (every encoding the masker knows) before a line is stored or shown. A batch whose `batch_seq` this attempt already sent is answered as the first time (`duplicate: true`) and not appended again, so a retried request never doubles lines.',
    request: { params: JobParams, ...jsonBody(LogBatchSchema) },
    responses: {
      200: {
        description: 'Appended, or already appended',
        ...json(
          z.object({
            last_seq: z.number().int().nonnegative(),
            duplicate: z
              .literal(true)
              .optional()
              .openapi({ description: 'Present when the batch had been appended before' }),
          }),
        ),
      },
      ...jobAuth,
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const batch = c.req.valid('json');
    const job = await authorizeJob(c, buildId);
    const { db, config } = c.get('services');
    const { lastSeq, duplicate } = await appendJobLog(
      c.env,
      db(),
      config.ENCRYPTION_KEY,
      job,
      batch,
    );
    return c.json({ last_seq: lastSeq, ...(duplicate && { duplicate: true as const }) }, 200);
  },
);

jobRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{buildId}/steps',
    tags: ['runner protocol'],
    summary: 'Report the step plan, then each change of a step’s state',
    request: { params: JobParams, ...jsonBody(StepReportSchema) },
    responses: {
      200: { description: 'Recorded', ...json(z.object({ steps: z.number().int() })) },
      ...jobAuth,
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const { steps } = c.req.valid('json');
    const job = await authorizeJob(c, buildId);
    const { db, config } = c.get('services');
    const recorded = await reportSteps(c.env, db(), config.ENCRYPTION_KEY, job, steps);
    return c.json({ steps: recorded }, 200);
  },
);

jobRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/{buildId}/artifact',
    tags: ['runner protocol'],
    summary: 'Upload the build output (a .tar.gz), streamed to R2',
    description: `Needs \`Content-Length\` (at most ${ARTIFACT_MAX_BYTES} bytes). A new upload replaces the previous one.`,
    request: {
      params: JobParams,
      body: {
        required: true,
        content: { 'application/gzip': { schema: z.string().openapi({ format: 'binary' }) } },
      },
    },
    responses: {
      200: {
        description: 'Stored',
        ...json(z.object({ artifact_key: z.string(), size: z.number().int() })),
      },
      ...jobAuth,
      413: { description: `Larger than ${ARTIFACT_MAX_BYTES} bytes` },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const { claims } = await authorizeJob(c, buildId);
    const size = Number(c.req.header('content-length'));
    const body = c.req.raw.body;
    if (!body || !Number.isSafeInteger(size) || size <= 0) {
      throw new ApiError('bad_request', 'Send the archive as the body, with a Content-Length');
    }
    if (size > ARTIFACT_MAX_BYTES) {
      throw new ApiError(
        'payload_too_large',
        `The build output exceeds ${ARTIFACT_MAX_BYTES} bytes`,
      );
    }
    const key = artifactKey(buildId);
    // The stream errors if the body is not exactly the announced length, so the cap holds.
    await c.env.ARTIFACTS.put(key, body.pipeThrough(new FixedLengthStream(size)), {
      httpMetadata: { contentType: 'application/gzip' },
      customMetadata: { attempt: String(claims.attempt) },
    });
    await recordBuildOutput(c.get('services').db(), buildId, claims.attempt, {
      artifactKey: key,
    });
    return c.json({ artifact_key: key, size }, 200);
  },
);

jobRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{buildId}/complete',
    tags: ['runner protocol'],
    summary: 'Report the result; the lease ends',
    description:
      'Idempotent: repeating it answers with the status recorded the first time. A succeeded build announces `build.succeeded` to the deploy engine (outbox, same transaction).',
    request: { params: JobParams, ...jsonBody(JobResultSchema) },
    responses: {
      200: {
        description: 'The build’s final status',
        ...json(z.object({ status: JobResultSchema.shape.status })),
      },
      ...jobAuth,
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const result = c.req.valid('json');
    const job = await authorizeJob(c, buildId, { finished: true });
    const { db, config, metrics } = c.get('services');
    const status = await completeJob(c.env, db(), config.ENCRYPTION_KEY, job, result, {
      logger: c.get('logger'),
      metrics,
      // The deploy engine continues the runner's trace from this call (or the build's, when the
      // runner sent none).
      traceparent: c.get('trace').continued ? traceparentOf(c) : job.build.traceparent,
    });
    return c.json({ status }, 200);
  },
);
