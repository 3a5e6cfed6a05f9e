import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { encodeOtlpTraces, parseOtlpHeaders, tracesEndpoint } from './otlp';
import type { Span } from './span';

const span: Span = {
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  span_id: '00f067aa0ba902b7',
  parent_span_id: '53995c3f42cd8ad8',
  name: 'checkout',
  kind: 'consumer',
  start_ms: 1_700_000_000_123,
  end_ms: 1_700_000_001_456,
  attributes: { 'sparki.phase': 'checkout', 'sparki.attempt': 2, ok: true, ratio: 0.5 },
  status: { code: 'error', message: 'git failed' },
};

/** The same span as the OpenTelemetry SDK holds it, for its own OTLP JSON serializer. */
function sdkSpan() {
  const hr = (ms: number): [number, number] => [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
  return {
    name: span.name,
    kind: SpanKind.CONSUMER,
    spanContext: () => ({
      traceId: span.trace_id,
      spanId: span.span_id,
      traceFlags: TraceFlags.SAMPLED,
    }),
    parentSpanContext: {
      traceId: span.trace_id,
      spanId: span.parent_span_id!,
      traceFlags: TraceFlags.SAMPLED,
    },
    startTime: hr(span.start_ms),
    endTime: hr(span.end_ms),
    status: { code: SpanStatusCode.ERROR, message: 'git failed' },
    attributes: span.attributes,
    links: [],
    events: [],
    duration: hr(span.end_ms - span.start_ms),
    ended: true,
    resource: resourceFromAttributes({ 'service.name': 'sparki-runner' }),
    instrumentationScope: { name: 'sparki.pipeline', version: '1.2.3' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

describe('OTLP/HTTP JSON', () => {
  it('encodes a span as the OpenTelemetry SDK’s own JSON serializer does', () => {
    const ours = encodeOtlpTraces([{ service: 'sparki-runner', spans: [span] }], '1.2.3');
    const theirs = JSON.parse(
      new TextDecoder().decode(
        JsonTraceSerializer.serializeRequest([sdkSpan()] as never) as Uint8Array,
      ),
    );
    const { resourceSpans } = theirs;
    const [theirSpan] = resourceSpans[0].scopeSpans[0].spans;
    const [ourSpan] = ours.resourceSpans[0]!.scopeSpans[0]!.spans;
    // Every field Sparki sends, the SDK sends the same way (it adds counts, events and links).
    expect(theirSpan).toMatchObject(ourSpan!);
    expect(ourSpan).toMatchObject({
      traceId: span.trace_id,
      kind: 5,
      startTimeUnixNano: '1700000000123000000',
      status: { code: 2, message: 'git failed' },
    });
    expect(resourceSpans[0].resource.attributes).toContainEqual(
      ours.resourceSpans[0]!.resource.attributes[0],
    );
    expect(resourceSpans[0].scopeSpans[0].scope).toEqual(
      ours.resourceSpans[0]!.scopeSpans[0]!.scope,
    );
  });

  it('leaves the parent out of a root span and groups spans by service', () => {
    const root = { ...span, parent_span_id: null, status: { code: 'ok' as const } };
    const request = encodeOtlpTraces(
      [
        { service: 'sparki', spans: [root] },
        { service: 'sparki-runner', spans: [] },
      ],
      '1',
    );
    expect(request.resourceSpans).toHaveLength(1);
    const [encoded] = request.resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(encoded).not.toHaveProperty('parentSpanId');
    expect(encoded!.status).toEqual({ code: 1 });
  });

  it('reads the OpenTelemetry environment variables', () => {
    expect(
      parseOtlpHeaders('x-honeycomb-team=abc,Authorization=Basic%20dXNlcjpwdw==, bad'),
    ).toEqual({ 'x-honeycomb-team': 'abc', Authorization: 'Basic dXNlcjpwdw==' });
    expect(parseOtlpHeaders(undefined)).toEqual({});
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' })).toBe(
      'http://127.0.0.1:4318/v1/traces',
    );
    expect(
      tracesEndpoint({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/otlp/traces',
      }),
    ).toBe('https://b/otlp/traces');
    expect(tracesEndpoint({})).toBeUndefined();
  });
});
