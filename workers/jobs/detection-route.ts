import { createRoute, z } from '@hono/zod-openapi';
import { DetectionReportSchema } from '../../core/runner-protocol';
import { recordDetection } from '../../domain/projects/detection';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { authorizeJob } from './auth';

export const jobDetectionRoutes = newRouter();

jobDetectionRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{buildId}/detection',
    tags: ['runner protocol'],
    summary: 'Report what detection found in the checkout',
    description:
      'Sent once detection has run, before the steps. Recorded on the project (its `framework` ' +
      'and `detection`, naming this build) unless a build with a higher number already reported: ' +
      '`recorded` says which. Idempotent.',
    request: { params: z.object({ buildId: z.uuid() }), ...jsonBody(DetectionReportSchema) },
    responses: {
      200: { description: 'Received', ...json(z.object({ recorded: z.boolean() })) },
      401: { description: 'No job token, a token for another build, or one whose lease has ended' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const report = c.req.valid('json');
    const { build } = await authorizeJob(c, buildId);
    const recorded = await recordDetection(c.get('services').db(), build, report);
    return c.json({ recorded }, 200);
  },
);
