import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import type { AttributeValue } from '../../core/trace/span';
import { builds } from './builds';
import { createdAt, id, timestamptz } from './columns';
import { buildPhase, spanKind, spanStatusCode } from './enums';

/**
 * The spans of a build's pipeline run that Sparki keeps whether or not traces are exported: the
 * request that started it and each phase (queued … live), about a dozen rows per build. The
 * build's timeline is assembled from them (core/trace/timeline.ts).
 */
export const buildSpans = pgTable(
  'build_spans',
  {
    ...id,
    buildId: uuid('build_id')
      .notNull()
      .references(() => builds.id, { onDelete: 'cascade' }),
    traceId: text('trace_id').notNull(),
    spanId: text('span_id').notNull(),
    parentSpanId: text('parent_span_id'),
    name: text('name').notNull(),
    kind: spanKind('kind').notNull(),
    // Null for a span that is no phase of the timeline (the request that started the build).
    phase: buildPhase('phase'),
    // Who recorded it: `sparki` (the platform) or `sparki-runner`.
    service: text('service').notNull(),
    startAt: timestamptz('start_at').notNull(),
    endAt: timestamptz('end_at').notNull(),
    attributes: jsonb('attributes').$type<Record<string, AttributeValue>>().notNull().default({}),
    statusCode: spanStatusCode('status_code').notNull().default('unset'),
    statusMessage: text('status_message'),
    ...createdAt,
  },
  (t) => [
    // At-least-once hops record a span again: the second is the same row.
    unique('build_spans_build_id_span_id_key').on(t.buildId, t.spanId),
    index('build_spans_trace_id_idx').on(t.traceId),
    check('build_spans_trace_id_hex', sql`${t.traceId} ~ '^[0-9a-f]{32}$'`),
    check('build_spans_span_id_hex', sql`${t.spanId} ~ '^[0-9a-f]{16}$'`),
    check('build_spans_end_after_start', sql`${t.endAt} >= ${t.startAt}`),
  ],
);

export type BuildSpan = typeof buildSpans.$inferSelect;
export type NewBuildSpan = typeof buildSpans.$inferInsert;
