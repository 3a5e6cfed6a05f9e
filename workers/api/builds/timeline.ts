import { createRoute, z } from '@hono/zod-openapi';
import { BUILD_PHASES, PHASE_LABELS } from '../../../core/trace/timeline';
import { buildTimeline } from '../../../domain/tracing/spans';
import { openApiErrorResponses } from '../../errors';
import { json } from '../../openapi';
import { newRouter } from '../../router';
import { BuildParams, loadBuild } from './schemas';

export const TimelinePhaseSchema = z
  .object({
    phase: z.enum(BUILD_PHASES),
    label: z.string().openapi({ example: 'runner picked' }),
    started_at: z.iso.datetime(),
    duration_ms: z.number().int().nonnegative(),
    status: z.enum(['unset', 'ok', 'error']).openapi({
      description: '`error` when the phase failed (a failed step, a failed health check)',
    }),
  })
  .openapi('TimelinePhase');

export const BuildTimelineSchema = z
  .object({
    build_id: z.uuid(),
    trace_id: z
      .string()
      .nullable()
      .openapi({
        description:
          'The W3C trace id of the build’s pipeline run: find its spans under it in your ' +
          'OpenTelemetry backend when an OTLP endpoint is configured',
      }),
    phases: z.array(TimelinePhaseSchema),
    total_ms: z.number().int().nonnegative(),
  })
  .openapi('BuildTimeline');

export const buildTimelineRoutes = newRouter();

buildTimelineRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/timeline',
    tags: ['builds'],
    summary: 'Where the build’s time went, from the push to live',
    description:
      'The phases of the build’s pipeline run, in order: queued → planned → runner picked → ' +
      'checkout → install → build → upload → deploy → health check → live, each with its start ' +
      'and duration. Only the phases that ran so far are listed (a build without an install ' +
      'step has none; deploy and later come once its deployment runs). A phase recorded more ' +
      'than once (a retried attempt, a canary checked at each share) spans from its first start ' +
      'to its last end.',
    request: { params: BuildParams },
    responses: {
      200: { description: 'The timeline', ...json(BuildTimelineSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await loadBuild(c, id, 'viewer');
    const timeline = await buildTimeline(c.get('services').db(), id);
    return c.json(
      {
        build_id: id,
        trace_id: timeline.traceId,
        phases: timeline.phases.map((phase) => ({
          phase: phase.phase,
          label: PHASE_LABELS[phase.phase],
          started_at: new Date(phase.startMs).toISOString(),
          duration_ms: phase.durationMs,
          status: phase.status,
        })),
        total_ms: timeline.totalMs,
      },
      200,
    );
  },
);
