import { createRoute, z } from '@hono/zod-openapi';
import { DEPLOYMENT_STATES } from '../../../core/deploy/state-machine';
import { deploymentsOf } from '../../../domain/deployments/queries';
import { authorizeProject } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { json } from '../../openapi';
import { newRouter } from '../../router';
import { DeploymentItemSchema, StageSchema, toDeploymentItem } from '../deployments/schemas';
import { ProjectParams } from './schemas';

/** `/api/projects/{id}/deployments`. */
export const projectDeploymentRoutes = newRouter();

projectDeploymentRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/deployments',
    tags: ['deployments'],
    summary: 'Deployments of a project, newest first, with their build and environment',
    request: {
      params: ProjectParams,
      query: z.object({
        stage: StageSchema.optional(),
        status: z
          .enum(DEPLOYMENT_STATES)
          .optional()
          .openapi({ description: 'e.g. `retired`: previews of deleted branches and closed PRs' }),
        before: z.iso
          .datetime()
          .optional()
          .openapi({ description: 'Cursor: `created_at` of the last row seen' }),
        environment_id: z.uuid().optional(),
        limit: z.coerce.number().int().min(1).max(100).default(20),
      }),
    },
    responses: {
      200: {
        description: 'Deployments',
        ...json(z.object({ deployments: z.array(DeploymentItemSchema) })),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    await authorizeProject(c, id, 'viewer');
    const rows = await deploymentsOf(
      c.get('services').db(),
      id,
      {
        stage: query.stage,
        status: query.status,
        before: query.before ? new Date(query.before) : undefined,
        environmentId: query.environment_id,
      },
      query.limit,
    );
    return c.json({ deployments: rows.map(toDeploymentItem) }, 200);
  },
);
