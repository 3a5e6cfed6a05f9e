import { z } from 'zod';
import { childContext, parseTraceparent, type SpanContext } from './context';

/**
 * A finished span with OpenTelemetry's semantics (trace/span/parent ids, kind, start and end,
 * attributes, status). Sparki records each one once it has ended, with explicit times: a
 * pipeline's hops run in different processes and machines, so no in-process tracer could hold
 * one open across them.
 */
export const SPAN_KINDS = ['internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

export const SPAN_STATUS_CODES = ['unset', 'ok', 'error'] as const;
export type SpanStatusCode = (typeof SPAN_STATUS_CODES)[number];

export type AttributeValue = string | number | boolean;

export const HEX_TRACE_ID = /^[0-9a-f]{32}$/;
export const HEX_SPAN_ID = /^[0-9a-f]{16}$/;

export const SpanSchema = z.object({
  trace_id: z.string().regex(HEX_TRACE_ID, '32 lowercase hex digits'),
  span_id: z.string().regex(HEX_SPAN_ID, '16 lowercase hex digits'),
  parent_span_id: z.string().regex(HEX_SPAN_ID, '16 lowercase hex digits').nullable(),
  name: z.string().min(1).max(200),
  kind: z.enum(SPAN_KINDS),
  /** Unix milliseconds. */
  start_ms: z.number().int().nonnegative(),
  end_ms: z.number().int().nonnegative(),
  attributes: z
    .record(z.string().max(100), z.union([z.string().max(1000), z.number(), z.boolean()]))
    .refine((value) => Object.keys(value).length <= 32, 'at most 32 attributes')
    .default({}),
  status: z
    .object({ code: z.enum(SPAN_STATUS_CODES), message: z.string().max(500).optional() })
    .default({ code: 'unset' }),
});
export type Span = z.infer<typeof SpanSchema>;

/** A span of work that began at `startMs` under `parent` (a `traceparent` or a context). */
export class OpenSpan {
  readonly context: SpanContext;
  readonly parentSpanId: string | null;
  readonly attributes: Record<string, AttributeValue> = {};

  constructor(
    readonly name: string,
    readonly kind: SpanKind,
    parent: SpanContext | string | null | undefined,
    readonly startMs = Date.now(),
  ) {
    const context = typeof parent === 'string' ? parseTraceparent(parent) : (parent ?? undefined);
    this.context = childContext(context);
    this.parentSpanId = context?.spanId ?? null;
  }

  set(attributes: Record<string, AttributeValue | null | undefined>): this {
    for (const [key, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined) this.attributes[key] = value;
    }
    return this;
  }

  end(status: Span['status'] = { code: 'ok' }, endMs = Date.now()): Span {
    return {
      trace_id: this.context.traceId,
      span_id: this.context.spanId,
      parent_span_id: this.parentSpanId,
      name: this.name,
      kind: this.kind,
      start_ms: Math.round(this.startMs),
      end_ms: Math.round(Math.max(endMs, this.startMs)),
      attributes: { ...this.attributes },
      status,
    };
  }
}

/** The error status of a failure, with its message cut to what a span keeps. */
export function errorStatus(error: unknown): Span['status'] {
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'error', message: message.slice(0, 500) };
}
