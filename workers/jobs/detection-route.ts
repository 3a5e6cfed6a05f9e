import { createRoute, z } from '@hono/zod-openapi';
import { DetectionReportSchema } from '../../core/runner-protocol';
import { jobSecretMasker } from '../../domain/builds/environment';
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
      '`recorded` says which. The commands and the evidence are masked like step commands. ' +
      'Idempotent.',
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
    const { build, project } = await authorizeJob(c, buildId);
    const { db, config } = c.get('services');
    // Viewers of the project see these; a command may spell out a secret.
    const mask = await jobSecretMasker(db(), config.ENCRYPTION_KEY, project.id, build.target);
    const masked = (text: string | null) => (text === null ? null : mask(text));
    const recorded = await recordDetection(db(), build, {
      ...report,
      framework_evidence: mask(report.framework_evidence),
      install_command: masked(report.install_command),
      build_command: masked(report.build_command),
    });
    return c.json({ recorded }, 200);
  },
);
