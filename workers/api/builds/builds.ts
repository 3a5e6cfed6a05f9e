import { createRoute, z } from '@hono/zod-openapi';
import { announceBuilds, endWaitingBuilds } from '../../../domain/builds/create';
import { cancelBuild, startBuild, stepsOf } from '../../../domain/builds/queries';
import { FINISHED_STATUSES } from '../../../domain/builds/statuses';
import { recordBuildEnd } from '../../../domain/metrics/record';
import { announceBuildStatus } from '../../../domain/reporting/build-status';
import { runnerHub } from '../../../platform/durable-objects';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { errorResponse, openApiErrorResponses } from '../../errors';
import { recordRequestSpan, traceparentOf } from '../../middleware/trace';
import { iso, json } from '../../openapi';
import { newRouter } from '../../router';
import { BuildParams, BuildSchema, loadBuild, toBuild } from './schemas';

const BuildStepSchema = z
  .object({
    position: z.number().int(),
    name: z.string(),
    command: z.string(),
    status: z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'canceled']),
    exit_code: z.number().int().nullable(),
    started_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
  })
  .openapi('BuildStep');

const BuildWithStepsSchema = BuildSchema.extend({ steps: z.array(BuildStepSchema) }).openapi(
  'BuildWithSteps',
);

/** `/api/builds/{id}`: one build, canceling and retrying it. */
export const buildRoutes = newRouter();

buildRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    tags: ['builds'],
    summary: 'One build with its steps',
    request: { params: BuildParams },
    responses: {
      200: { description: 'The build', ...json(BuildWithStepsSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { row: build } = await loadBuild(c, id, 'viewer');
    const steps = await stepsOf(c.get('services').db(), id);
    return c.json(
      {
        ...toBuild(build),
        steps: steps.map((step) => ({
          position: step.position,
          name: step.name,
          command: step.command,
          status: step.status,
          exit_code: step.exitCode,
          started_at: iso(step.startedAt),
          finished_at: iso(step.finishedAt),
        })),
      },
      200,
    );
  },
);

buildRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/cancel',
    tags: ['builds'],
    summary: 'Cancel a build (developer)',
    description:
      'A build still waiting for a runner is canceled at once and leaves the queue. A running ' +
      'build gets `cancel_requested_at` and its runner is told to stop; it becomes `canceled` ' +
      'when the runner reports back (or times out).',
    request: { params: BuildParams },
    responses: {
      200: { description: 'Canceled, or cancel requested', ...json(BuildSchema) },
      409: errorResponse('The build has already finished'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { row: build, access } = await loadBuild(c, id, 'developer');
    const { metrics } = c.get('services');
    const db = c.get('services').db();
    const audit = auditFor(c, access);
    const canceled = await cancelBuild(db, id, 'now', audit);
    if (canceled) {
      recordBuildEnd(metrics, canceled, access.workspaceId);
      await endWaitingBuilds(c.env, db, access.workspaceId, [id], c.get('logger'));
      await announceBuildStatus(c.env, [id], c.get('logger'));
      return c.json(toBuild(canceled), 200);
    }
    const requested = await cancelBuild(db, id, 'on_runner', audit);
    if (!requested) {
      throw new ApiError('conflict', `Build #${build.number} has already finished`, {
        status: build.status,
      });
    }
    const { state } = await runnerHub(c.env, access.workspaceId).cancel(id, 'Canceled on request');
    // The runner lost its lease meanwhile and the build waits again: it ends here instead.
    const requeued = state === 'signalled' ? undefined : await cancelBuild(db, id, 'now', audit);
    if (requeued) {
      recordBuildEnd(metrics, requeued, access.workspaceId);
      await announceBuildStatus(c.env, [id], c.get('logger'));
    }
    return c.json(toBuild(requeued ?? requested), 200);
  },
);

buildRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/retry',
    tags: ['builds'],
    summary: 'Build the same commit again as a new build (developer)',
    request: { params: BuildParams },
    responses: {
      201: { description: 'The new build, with `retry_of` set', ...json(BuildSchema) },
      409: errorResponse('The build has not finished yet'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { row: build, access } = await loadBuild(c, id, 'developer');
    if (!FINISHED_STATUSES.some((status) => status === build.status)) {
      throw new ApiError('conflict', `Build #${build.number} is still ${build.status}`);
    }
    const db = c.get('services').db();
    const request = {
      projectId: build.projectId,
      commitSha: build.commitSha,
      branch: build.branch,
      trigger: 'retry' as const,
      target: build.target,
      tag: build.tag,
      pullRequest: build.pullRequest,
      commitMessage: build.commitMessage,
      retryOf: build.id,
      traceparent: traceparentOf(c),
    };
    const created = await startBuild(db, request, auditFor(c, access), 'build.retried', () => ({
      retry_of: build.id,
    }));
    await announceBuilds(c.env, db, [created], {
      logger: c.get('logger'),
      metrics: c.get('services').metrics,
    });
    await recordRequestSpan(c, [created.build.id], 201);
    return c.json(toBuild(created.build), 201);
  },
);
