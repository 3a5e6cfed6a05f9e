import { and, asc, eq, isNotNull } from 'drizzle-orm';
import { parseTraceparent } from '../../core/trace/context';
import type { ServiceSpans } from '../../core/trace/otlp';
import type { Span } from '../../core/trace/span';
import { assembleTimeline, type BuildPhase, type Timeline } from '../../core/trace/timeline';
import type { Database } from '../../db/client';
import { buildSpans, builds } from '../../db/schema';
import type { Config } from '../../platform/config';
import type { Logger } from '../../platform/logger';
import { exportSpans, serviceName } from '../../platform/otlp-exporter';

export const RUNNER_SERVICE = 'sparki-runner';

/** What recording a span needs: where it is kept, where it is exported, where failures go. */
export interface TraceDeps {
  db: Database;
  config: Config;
  logger: Logger;
}

/** A span of one build's pipeline run; `phase` places it on the build's timeline. */
export interface BuildSpanRecord {
  buildId: string;
  span: Span;
  phase?: BuildPhase | null;
  /** Who recorded it; the platform itself unless said. */
  service?: string;
}

/**
 * Keeps the spans with their builds (a span recorded again by a redelivered hop is the same row)
 * and exports them over OTLP when an endpoint is configured. Never throws: a trace that could
 * not be written must not fail the build it describes.
 */
export async function recordBuildSpans(
  { db, config, logger }: TraceDeps,
  records: BuildSpanRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const platform = serviceName(config);
  const withPhase = records.map((record) => ({
    ...record,
    service: record.service ?? platform,
    span: {
      ...record.span,
      attributes: {
        ...record.span.attributes,
        'sparki.build.id': record.buildId,
        ...(record.phase ? { 'sparki.phase': record.phase } : {}),
      },
    },
  }));
  try {
    await db
      .insert(buildSpans)
      .values(
        withPhase.map(({ buildId, span, phase, service }) => ({
          buildId,
          traceId: span.trace_id,
          spanId: span.span_id,
          parentSpanId: span.parent_span_id,
          name: span.name,
          kind: span.kind,
          phase: phase ?? null,
          service,
          startAt: new Date(span.start_ms),
          endAt: new Date(span.end_ms),
          attributes: span.attributes,
          statusCode: span.status.code,
          statusMessage: span.status.message ?? null,
        })),
      )
      .onConflictDoNothing();
  } catch (error) {
    logger.warn('build_spans_not_recorded', { error });
  }
  const groups = new Map<string, ServiceSpans>();
  for (const { service, span } of withPhase) {
    const group = groups.get(service) ?? { service, spans: [] };
    // One span of a request that started several builds is exported once.
    if (!group.spans.some((seen) => seen.span_id === span.span_id)) group.spans.push(span);
    groups.set(service, group);
  }
  await exportSpans(config, [...groups.values()], logger);
}

/** The trace a build's pipeline run belongs to, from its stored context. */
export function buildTraceId(build: { traceparent: string | null }): string | null {
  return parseTraceparent(build.traceparent)?.traceId ?? null;
}

/** The build's timeline: the phases of its own trace, in pipeline order. */
export async function buildTimeline(db: Database, buildId: string): Promise<Timeline> {
  const [build] = await db
    .select({ traceparent: builds.traceparent })
    .from(builds)
    .where(eq(builds.id, buildId));
  const rows = await db
    .select({
      traceId: buildSpans.traceId,
      phase: buildSpans.phase,
      startAt: buildSpans.startAt,
      endAt: buildSpans.endAt,
      status: buildSpans.statusCode,
    })
    .from(buildSpans)
    .where(and(eq(buildSpans.buildId, buildId), isNotNull(buildSpans.phase)))
    .orderBy(asc(buildSpans.startAt));
  return assembleTimeline(
    build ? buildTraceId(build) : null,
    rows.map((row) => ({
      traceId: row.traceId,
      phase: row.phase!,
      startMs: row.startAt.getTime(),
      endMs: row.endAt.getTime(),
      status: row.status,
    })),
  );
}
