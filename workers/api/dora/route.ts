import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { doraReport } from '../../../core/dora/report';
import { type DoraScope, productionHistory } from '../../../domain/dora/history';
import type { HonoEnv } from '../../context';
import { openApiErrorResponses } from '../../errors';
import { json } from '../../openapi';
import { newRouter } from '../../router';
import { DORA_DESCRIPTION, DoraQuery, DoraReportSchema, requestedWindow } from './schemas';

/**
 * `GET /{id}/dora` of a project or a workspace: the same report, over the history `authorize`
 * names once it has checked the caller may read it.
 */
export function doraRouter(options: {
  summary: string;
  authorize: (c: Context<HonoEnv>, id: string) => Promise<DoraScope>;
}) {
  const router = newRouter();
  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/dora',
      tags: ['dora'],
      summary: options.summary,
      description: DORA_DESCRIPTION,
      request: { params: z.object({ id: z.uuid() }), query: DoraQuery },
      responses: {
        200: { description: 'DORA metrics', ...json(DoraReportSchema) },
        ...openApiErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const window = requestedWindow(c.req.valid('query'));
      const scope = await options.authorize(c, id);
      const history = await productionHistory(c.get('services').db(), scope);
      return c.json(doraReport(history, window), 200);
    },
  );
  return router;
}
