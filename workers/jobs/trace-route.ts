import { createRoute, z } from '@hono/zod-openapi';
import { SpanReportSchema } from '../../core/runner-protocol';
import { jobSecretMasker } from '../../domain/builds/environment';
import { buildTraceId, RUNNER_SERVICE, recordBuildSpans } from '../../domain/tracing/spans';
import { ApiError } from '../../platform/errors';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { authorizeJob } from './auth';

export const jobTraceRoutes = newRouter();

jobTraceRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{buildId}/spans',
    tags: ['runner protocol'],
    summary: 'Report the runner’s spans of the attempt',
    description:
      'Finished spans in the build’s trace (the job spec’s `traceparent` names it): those with a ' +
      '`phase` make the build’s timeline, and all are exported over OTLP when the platform has an ' +
      'endpoint configured. Status messages and text attributes are masked like step commands. ' +
      'Sent before the result; sending a span again is harmless.',
    request: { params: z.object({ buildId: z.uuid() }), ...jsonBody(SpanReportSchema) },
    responses: {
      200: { description: 'Recorded', ...json(z.object({ spans: z.number().int() })) },
      401: { description: 'No job token, a token for another build, or one whose lease has ended' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const { spans } = c.req.valid('json');
    const { build, project } = await authorizeJob(c, buildId);
    const traceId = buildTraceId(build);
    const foreign = spans.filter((span) => span.trace_id !== traceId);
    if (foreign.length > 0) {
      throw new ApiError('validation_failed', 'Spans must belong to the build’s trace', {
        fields: { spans: [`trace_id must be ${traceId}`] },
      });
    }
    const { db, config } = c.get('services');
    const mask = await jobSecretMasker(db(), config.ENCRYPTION_KEY, project.id, build.target);
    await recordBuildSpans(
      { db: db(), config, logger: c.get('logger') },
      spans.map(({ phase, ...span }) => ({
        buildId,
        phase,
        service: RUNNER_SERVICE,
        span: {
          ...span,
          name: mask(span.name),
          attributes: Object.fromEntries(
            Object.entries(span.attributes).map(([key, value]) => [
              key,
              typeof value === 'string' ? mask(value) : value,
            ]),
          ),
          status: {
            code: span.status.code,
            ...(span.status.message ? { message: mask(span.status.message) } : {}),
          },
        },
      })),
    );
    return c.json({ spans: spans.length }, 200);
  },
);
