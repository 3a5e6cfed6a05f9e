import type { AttributeValue, Span, SpanKind, SpanStatusCode } from './span';

/**
 * Spans as an OTLP/HTTP JSON export request (`ExportTraceServiceRequest`), encoded as the OTLP
 * specification says JSON differs from protobuf's JSON mapping: trace and span ids as hex, enums
 * as their numbers, the 64-bit nanosecond times as decimal strings.
 * https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 */

/** The proto enum `Span.SpanKind`; 0 (unspecified) is never sent. */
const KIND: Record<SpanKind, number> = {
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
};

/** The proto enum `Status.StatusCode`. */
const STATUS: Record<SpanStatusCode, number> = { unset: 0, ok: 1, error: 2 };

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number;
  doubleValue?: number;
}

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

function anyValue(value: AttributeValue): OtlpAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  // A safe integer as a JSON number, as the OpenTelemetry SDK sends it (receivers take both).
  return Number.isSafeInteger(value) ? { intValue: value } : { doubleValue: value };
}

export function otlpAttributes(attributes: Record<string, AttributeValue>): OtlpKeyValue[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

function unixNano(ms: number): string {
  return (BigInt(Math.round(ms)) * 1_000_000n).toString();
}

export function otlpSpan(span: Span) {
  return {
    traceId: span.trace_id,
    spanId: span.span_id,
    ...(span.parent_span_id ? { parentSpanId: span.parent_span_id } : {}),
    name: span.name,
    kind: KIND[span.kind],
    startTimeUnixNano: unixNano(span.start_ms),
    endTimeUnixNano: unixNano(span.end_ms),
    attributes: otlpAttributes(span.attributes),
    status: {
      code: STATUS[span.status.code],
      ...(span.status.message ? { message: span.status.message } : {}),
    },
  };
}

/** The spans of one service (the platform, or a runner whose spans it passes on). */
export interface ServiceSpans {
  service: string;
  spans: Span[];
}

export const INSTRUMENTATION_SCOPE = 'sparki.pipeline';

export function encodeOtlpTraces(groups: ServiceSpans[], version: string) {
  return {
    resourceSpans: groups
      .filter((group) => group.spans.length > 0)
      .map((group) => ({
        resource: { attributes: otlpAttributes({ 'service.name': group.service }) },
        scopeSpans: [
          {
            scope: { name: INSTRUMENTATION_SCOPE, version },
            spans: group.spans.map(otlpSpan),
          },
        ],
      })),
  };
}

/**
 * `OTEL_EXPORTER_OTLP_HEADERS`: `key1=value1,key2=value2`, values percent-encoded (the
 * OpenTelemetry SDK environment variable format). Pairs without `=` are skipped.
 */
export function parseOtlpHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (value ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    if (!key) continue;
    headers[key] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

/**
 * Where traces go: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, else
 * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces` (the specification's rule for the base endpoint).
 */
export function tracesEndpoint(config: {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
}): string | undefined {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}
