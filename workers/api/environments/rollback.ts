import { createRoute, z } from '@hono/zod-openapi';
import { rollBack } from '../../../domain/deployments/queries';
import { notifyManualRollback } from '../../../domain/notifications/sources';
import { auditFor } from '../../audit';
import { openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import { DeploymentSchema, toDeployment } from '../deployments/schemas';
import { EnvironmentParams, loadEnvironment } from './schemas';

/** `/api/environments/{id}/rollback`. */
export const rollbackRoutes = newRouter();

rollbackRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/rollback',
    tags: ['deployments'],
    summary: 'Serve an earlier live deployment again, at once (developer)',
    description:
      'Without `deployment_id`, goes back to the deployment that was live before the current ' +
      'one; with it, to any deployment of the environment that served before, including one ' +
      'rolled back since. The switch is one pointer update: nothing is uploaded. It takes the ' +
      'deploy engine’s lock on the environment: a deployment in progress there (e.g. a canary ' +
      'step) ends, `rolled_back` once it is being verified, `canceled` before, and its engine ' +
      'stops instead of undoing the rollback.',
    request: {
      params: EnvironmentParams,
      ...jsonBody(z.object({ deployment_id: z.uuid().optional() }).openapi('Rollback')),
    },
    responses: {
      200: { description: 'Rolled back', ...json(DeploymentSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const { access } = await loadEnvironment(c, id, 'developer');
    const db = c.get('services').db();
    const restored = await rollBack(db, id, input.deployment_id, auditFor(c, access));
    c.get('services').metrics.record({
      type: 'rollback',
      kind: 'manual',
      stage: restored.stage,
      platform: restored.platform,
      projectId: restored.projectId,
      workspaceId: access.workspaceId,
    });
    await notifyManualRollback(
      { env: c.env, services: c.get('services'), logger: c.get('logger') },
      restored,
    );
    return c.json(toDeployment(restored), 200);
  },
);
