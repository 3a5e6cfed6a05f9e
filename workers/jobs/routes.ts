import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, sql } from 'drizzle-orm';
import { resolveProjectSettings } from '../../core/project-settings';
import {
  JobResultSchema,
  JobSpecSchema,
  LogBatchSchema,
  StepReportSchema,
} from '../../core/runner-protocol';
import { createMasker } from '../../core/secret-masker';
import { buildSteps, builds, outbox } from '../../db/schema';
import { loadJobEnvironment } from '../../domain/builds/environment';
import { ARTIFACT_MAX_BYTES } from '../../domain/builds/limits';
import { closeBuildLog } from '../../domain/builds/log';
import { publishOutbox } from '../../domain/outbox';
import { announceBuildStatus } from '../../domain/reporting/build-status';
import { buildSession, runnerHub } from '../../platform/durable-objects';
import { ApiError } from '../../platform/errors';
import { DEPLOYMENTS_QUEUE, type DeploymentsMessage } from '../../platform/queues';
import { artifactKey } from '../../platform/storage-keys';
import { openApiErrorResponses } from '../errors';
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
      'Repository, commit, build number, root directory, the target environment’s variables with secrets decrypted, the names of the secrets to mask, its image template (for builds that push an image), detection overrides and time limits.',
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
    const { lines, batch_seq: batchSeq } = c.req.valid('json');
    const { build, project, claims } = await authorizeJob(c, buildId);
    const { db, config } = c.get('services');
    const { secrets } = await loadJobEnvironment(
      db(),
      config.ENCRYPTION_KEY,
      project.id,
      build.target,
    );
    const { lastSeq, duplicate } = await buildSession(c.env, buildId).append(
      lines.map((line) => ({
        stream: line.stream,
        text: line.text,
        ts: line.ts,
        ...(line.step_id !== undefined && { stepId: line.step_id }),
      })),
      {
        secrets,
        ...(batchSeq !== undefined && { batch: { attempt: claims.attempt, seq: batchSeq } }),
      },
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
    const { build, project } = await authorizeJob(c, buildId);
    const { db, config } = c.get('services');
    const { secrets } = await loadJobEnvironment(
      db(),
      config.ENCRYPTION_KEY,
      project.id,
      build.target,
    );
    const mask = createMasker(secrets);
    const rows = steps.map((step) => ({
      buildId,
      position: step.position,
      name: mask(step.name),
      command: mask(step.command),
      status: step.status,
      exitCode: step.exit_code ?? null,
      startedAt: step.started_at ? new Date(step.started_at) : null,
      finishedAt: step.finished_at ? new Date(step.finished_at) : null,
    }));
    await db()
      .insert(buildSteps)
      .values(rows)
      .onConflictDoUpdate({
        target: [buildSteps.buildId, buildSteps.position],
        set: {
          name: sql`excluded.name`,
          command: sql`excluded.command`,
          status: sql`excluded.status`,
          exitCode: sql`excluded.exit_code`,
          startedAt: sql`excluded.started_at`,
          finishedAt: sql`excluded.finished_at`,
        },
      });
    await buildSession(c.env, buildId).setSteps(steps, { secrets });
    return c.json({ steps: rows.length }, 200);
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
    await c
      .get('services')
      .db()
      .update(builds)
      .set({ artifactKey: key })
      .where(and(eq(builds.id, buildId), eq(builds.attempt, claims.attempt)));
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
    const { build, project, claims } = await authorizeJob(c, buildId, { finished: true });
    const { db, config } = c.get('services');
    if (build.status === 'running') {
      const { secrets } = await loadJobEnvironment(
        db(),
        config.ENCRYPTION_KEY,
        project.id,
        build.target,
      );
      const error = result.error === undefined ? null : createMasker(secrets)(result.error);
      const published = await db().transaction(async (tx) => {
        const [ended] = await tx
          .update(builds)
          .set({
            status: result.status,
            finishedAt: new Date(),
            error: result.status === 'succeeded' ? null : error,
          })
          .where(
            and(
              eq(builds.id, buildId),
              eq(builds.status, 'running'),
              eq(builds.attempt, claims.attempt),
            ),
          )
          .returning();
        if (ended?.status !== 'succeeded') return [];
        const message: DeploymentsMessage = {
          type: 'build.succeeded',
          build_id: ended.id,
          project_id: ended.projectId,
          target: ended.target,
          artifact_key: ended.artifactKey,
        };
        return tx.insert(outbox).values({ topic: DEPLOYMENTS_QUEUE, payload: message }).returning();
      });
      await publishOutbox(c.env, db(), published);
      await announceBuildStatus(c.env, [buildId], c.get('logger'));
    }
    await runnerHub(c.env, project.workspaceId).complete(buildId, claims.attempt);
    const [final] = await db()
      .select({ status: builds.status })
      .from(builds)
      .where(eq(builds.id, buildId));
    const status = JobResultSchema.shape.status.parse(final?.status);
    await closeBuildLog(c.env, db(), buildId, status);
    return c.json({ status }, 200);
  },
);
