import { createRoute, z } from '@hono/zod-openapi';
import { queueDeployment } from '../../../domain/deployments/queries';
import { environmentOfKind } from '../../../domain/environments/environments';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import {
  DeploymentSchema,
  StageSchema,
  StrategySchema,
  toDeployment,
} from '../deployments/schemas';
import { BuildParams, loadBuild } from './schemas';

/** `/api/builds/{id}/deploy`: a build's output to an environment of its project. */
export const buildDeployRoutes = newRouter();

buildDeployRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/deploy',
    tags: ['deployments'],
    summary: 'Deploy a successful build to preview or production (developer)',
    request: {
      params: BuildParams,
      ...jsonBody(
        z
          .object({ stage: StageSchema.default('preview'), strategy: StrategySchema.optional() })
          .openapi('DeployBuild'),
      ),
    },
    responses: {
      202: { description: 'Queued', ...json(DeploymentSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const { row: build, access } = await loadBuild(c, id, 'developer');
    if (build.status !== 'succeeded' || !(build.outputManifestKey ?? build.artifactKey)) {
      throw new ApiError('conflict', 'Only a successful build with output can be deployed');
    }
    const db = c.get('services').db();
    const environment = await environmentOfKind(db, build.projectId, input.stage);
    if (!environment)
      throw new ApiError('not_found', `The project has no ${input.stage} environment`);
    const request = {
      requestKey: `api:${crypto.randomUUID()}`,
      buildId: build.id,
      projectId: build.projectId,
      environmentId: environment.id,
      stage: input.stage,
      strategy: input.strategy ?? environment.strategy,
    };
    const deployment = await queueDeployment(
      c.env,
      db,
      request,
      auditFor(c, access),
      'deployment.requested',
      { build_id: build.id, stage: input.stage },
    );
    return c.json(toDeployment(deployment), 202);
  },
);
