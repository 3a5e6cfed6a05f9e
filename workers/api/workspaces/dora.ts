import { createRoute } from '@hono/zod-openapi';
import { doraReport } from '../../../core/dora/report';
import { productionHistory } from '../../../domain/dora/history';
import { authorizeWorkspace } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { json } from '../../openapi';
import { newRouter } from '../../router';
import { DORA_DESCRIPTION, DoraQuery, DoraReportSchema, requestedWindow } from '../dora/schemas';
import { WorkspaceParams } from './members';

/** `/api/workspaces/{id}/dora`: every project's production deployments together. */
export const workspaceDoraRoutes = newRouter();

workspaceDoraRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/dora',
    tags: ['dora'],
    summary: "The workspace's DORA metrics over a window, all its projects together (viewer)",
    description: DORA_DESCRIPTION,
    request: { params: WorkspaceParams, query: DoraQuery },
    responses: {
      200: { description: 'DORA metrics', ...json(DoraReportSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const window = requestedWindow(c.req.valid('query'));
    await authorizeWorkspace(c, id, 'viewer');
    const history = await productionHistory(c.get('services').db(), { workspaceId: id });
    return c.json(doraReport(history, window), 200);
  },
);
