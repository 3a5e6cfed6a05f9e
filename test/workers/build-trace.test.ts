import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildTimeline } from '../../cli/timeline';
import { formatTraceparent, parseTraceparent } from '../../core/trace/context';
import { buildSpans, builds, outbox } from '../../db/schema';
import { anonymous, as, type ErrorEnvelope } from './api-client';
import { newUser } from './auth-helpers';
import { testDb } from './harness';
import { projectFixture } from './project-fixtures';
import { onlineRunner, planBuild, registerRunner } from './runner-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

// What a traced client (a CI script, the CLI) sends: its own span, which the build's trace continues.
const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';
const CALLER = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

type Timeline = BuildTimeline;

function spansOf(buildId: string) {
  return db.select().from(buildSpans).where(eq(buildSpans.buildId, buildId));
}

/** A build started through the API by a traced caller, leased to a connected runner. */
async function tracedBuild() {
  const { owner, workspace, project } = await projectFixture();
  const runner = await registerRunner(owner.access_token, workspace.id);
  const socket = await onlineRunner(runner.runner_token);
  const created = await as(owner).post<{ id: string }>(
    `/api/projects/${project.id}/builds`,
    {},
    { traceparent: CALLER },
  );
  expect(created.status, created.text).toBe(201);
  const buildId = created.body.id;
  return { owner, buildId, socket };
}

describe('one trace per pipeline run', () => {
  it('starts at the request, travels through the queue and the hub to the runner’s spec', async () => {
    const { owner, buildId, socket } = await tracedBuild();
    const [build] = await db.select().from(builds).where(eq(builds.id, buildId));
    const root = parseTraceparent(build!.traceparent)!;
    expect(root.traceId).toBe(CALLER_TRACE);
    const [request] = await spansOf(buildId);
    expect(request).toMatchObject({
      spanId: root.spanId,
      parentSpanId: CALLER_SPAN,
      name: 'POST /api/projects/:id/builds',
      kind: 'server',
      phase: null,
      service: 'sparki',
    });
    expect(request!.attributes).toMatchObject({ 'http.response.status_code': 201 });

    // As the queue delivers the outbox row's payload.
    const [message] = await db
      .select({ payload: outbox.payload })
      .from(outbox)
      .where(
        eq(outbox.payload, { type: 'build.requested', buildId, traceparent: build!.traceparent }),
      );
    expect(message).toBeDefined();
    await planBuild(buildId, build!.traceparent!);
    const job = await socket.next('job');

    const spans = await spansOf(buildId);
    const named = (name: string) => spans.find((span) => span.name === name)!;
    expect(spans.every((span) => span.traceId === CALLER_TRACE)).toBe(true);
    expect(named('queued')).toMatchObject({
      phase: 'queued',
      kind: 'producer',
      parentSpanId: root.spanId,
    });
    const consumer = named('sparki-builds process');
    expect(consumer).toMatchObject({
      kind: 'consumer',
      parentSpanId: root.spanId,
      statusCode: 'ok',
    });
    const planned = named('planned');
    expect(planned).toMatchObject({ phase: 'planned', parentSpanId: consumer.spanId });
    expect(planned.attributes).toMatchObject({ 'sparki.attempt': job.attempt });
    expect(named('queued').endAt.getTime()).toBeLessThanOrEqual(consumer.startAt.getTime());

    const spec = await as(job.job_token).get<{ traceparent: string }>(`/api/jobs/${buildId}`);
    expect(spec.status, spec.text).toBe(200);
    expect(parseTraceparent(spec.body.traceparent)).toEqual({
      traceId: CALLER_TRACE,
      spanId: planned.spanId,
      flags: 1,
    });

    const timeline = await as(owner).get<Timeline>(`/api/builds/${buildId}/timeline`);
    expect(timeline.status, timeline.text).toBe(200);
    expect(timeline.body.trace_id).toBe(CALLER_TRACE);
    expect(timeline.body.phases.map((phase) => phase.phase)).toEqual(['queued', 'planned']);
  });

  it('keeps the runner’s spans, carries the result call’s context to the deploy engine, and assembles the timeline', async () => {
    const { owner, buildId, socket } = await tracedBuild();
    const [build] = await db.select().from(builds).where(eq(builds.id, buildId));
    await planBuild(buildId, build!.traceparent!);
    const job = await socket.next('job');
    const runner = as(job.job_token);
    const spec = await runner.get<{ traceparent: string }>(`/api/jobs/${buildId}`);
    const lease = parseTraceparent(spec.body.traceparent)!;
    const attempt = { traceId: lease.traceId, spanId: 'aaaaaaaaaaaaaaa1', flags: 1 };
    const t0 = Date.now();
    const span = (
      phase: string | null,
      spanId: string,
      start: number,
      end: number,
      parent = attempt.spanId,
    ) => ({
      trace_id: lease.traceId,
      span_id: spanId,
      parent_span_id: parent,
      name: phase ?? 'build attempt 1',
      kind: 'internal',
      start_ms: t0 + start,
      end_ms: t0 + end,
      phase,
      attributes: { 'sparki.attempt': 1 },
      status: { code: 'ok' },
    });
    const reported = [
      span('runner_picked', 'aaaaaaaaaaaaaaa2', 0, 10),
      span('checkout', 'aaaaaaaaaaaaaaa3', 10, 300),
      span('build', 'aaaaaaaaaaaaaaa4', 300, 900),
      span('upload', 'aaaaaaaaaaaaaaa5', 900, 1_000),
      span(null, attempt.spanId, 0, 1_000, lease.spanId),
    ];

    const foreign = await runner.post<ErrorEnvelope>(`/api/jobs/${buildId}/spans`, {
      spans: [{ ...reported[0], trace_id: 'f'.repeat(32) }],
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.code).toBe('validation_failed');
    expect(
      (
        await runner.post<ErrorEnvelope>(`/api/jobs/${buildId}/spans`, {
          spans: [{ ...reported[0], span_id: 'xyz' }],
        })
      ).status,
    ).toBe(400);
    expect((await anonymous.post(`/api/jobs/${buildId}/spans`, { spans: reported })).status).toBe(
      401,
    );

    const recorded = await runner.post(`/api/jobs/${buildId}/spans`, { spans: reported });
    expect(recorded.status, recorded.text).toBe(200);
    // A retried report changes nothing.
    expect((await runner.post(`/api/jobs/${buildId}/spans`, { spans: reported })).status).toBe(200);
    const runnerSpans = (await spansOf(buildId)).filter((row) => row.service === 'sparki-runner');
    expect(runnerSpans).toHaveLength(reported.length);

    const complete = await runner.post(
      `/api/jobs/${buildId}/complete`,
      { status: 'succeeded' },
      { traceparent: formatTraceparent(attempt) },
    );
    expect(complete.status, complete.text).toBe(200);
    const deployContext = parseTraceparent(
      (
        await db
          .select({ payload: outbox.payload })
          .from(outbox)
          .where(eq(outbox.topic, 'sparki-deployments'))
      )
        .map((row) => row.payload as { build_id: string; traceparent?: string })
        .find((payload) => payload.build_id === buildId)?.traceparent,
    );
    // The result call's own span: in the build's trace, a child of the runner's attempt.
    expect(deployContext?.traceId).toBe(CALLER_TRACE);
    expect(deployContext?.spanId).not.toBe(attempt.spanId);

    const timeline = await as(owner).get<Timeline>(`/api/builds/${buildId}/timeline`);
    expect(timeline.status, timeline.text).toBe(200);
    expect(timeline.body.phases.map((phase) => [phase.phase, phase.label])).toEqual([
      ['queued', 'queued'],
      ['planned', 'planned'],
      ['runner_picked', 'runner picked'],
      ['checkout', 'checkout'],
      ['build', 'build'],
      ['upload', 'upload'],
    ]);
    const checkout = timeline.body.phases.find((phase) => phase.phase === 'checkout')!;
    expect(checkout).toMatchObject({ duration_ms: 290, status: 'ok' });
    expect(Date.parse(checkout.started_at)).toBe(t0 + 10);
    expect(timeline.body.total_ms).toBeGreaterThanOrEqual(1_000);
  });

  it('shows a timeline only to those who may see the build', async () => {
    const { buildId } = await tracedBuild();
    const stranger = await newUser('stranger');
    const hidden = await as(stranger).get<ErrorEnvelope>(`/api/builds/${buildId}/timeline`);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('not_found');
    expect((await anonymous.get(`/api/builds/${buildId}/timeline`)).status).toBe(401);
    const unknown = await as(stranger).get<ErrorEnvelope>(
      `/api/builds/${crypto.randomUUID()}/timeline`,
    );
    expect(unknown.status).toBe(404);
    expect((await as(stranger).get(`/api/builds/not-a-uuid/timeline`)).status).toBe(400);
  });
});
