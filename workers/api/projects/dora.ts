import { createRoute } from '@hono/zod-openapi';
import { doraReport } from '../../../core/dora/report';
import { productionHistory } from '../../../domain/dora/history';
import { authorizeProject } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { json } from '../../openapi';
import { newRouter } from '../../router';
import { DORA_DESCRIPTION, DoraQuery, DoraReportSchema, requestedWindow } from '../dora/schemas';
import { ProjectParams } from './schemas';

/** `/api/projects/{id}/dora`. */
export const projectDoraRoutes = newRouter();

projectDoraRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/dora',
    tags: ['dora'],
    summary: "The project's DORA metrics over a window (viewer)",
    description: DORA_DESCRIPTION,
    request: { params: ProjectParams, query: DoraQuery },
    responses: {
      200: { description: 'DORA metrics', ...json(DoraReportSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const window = requestedWindow(c.req.valid('query'));
    await authorizeProject(c, id, 'viewer');
    const history = await productionHistory(c.get('services').db(), { projectId: id });
    return c.json(doraReport(history, window), 200);
  },
);
