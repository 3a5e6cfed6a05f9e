import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/**
 * A local OTLP/HTTP receiver for traces, answering as the OTLP specification says a collector
 * does: `POST /v1/traces` with a JSON `ExportTraceServiceRequest`, 200 with an
 * `ExportTraceServiceResponse`, 400 for a body that is not one, 415 for another content type.
 * It reads the JSON encoding the specification defines (hex ids, numeric enums, 64-bit
 * integers as strings or numbers, lowerCamelCase fields) strictly, so a malformed export fails.
 * https://opentelemetry.io/docs/specs/otlp/#otlphttp
 */
const Uint64 = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]);
const AnyValue = z
  .object({
    stringValue: z.string(),
    boolValue: z.boolean(),
    intValue: z.union([z.string().regex(/^-?\d+$/), z.number().int()]),
    doubleValue: z.number(),
  })
  .partial()
  .strict()
  .refine((value) => Object.keys(value).length === 1, 'one value field');
const KeyValue = z.object({ key: z.string().min(1), value: AnyValue }).strict();

const OtlpSpan = z
  .object({
    traceId: z.string().regex(/^[0-9a-f]{32}$/),
    spanId: z.string().regex(/^[0-9a-f]{16}$/),
    parentSpanId: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .optional(),
    traceState: z.string().optional(),
    flags: z.number().int().optional(),
    name: z.string().min(1),
    kind: z.number().int().min(0).max(5),
    startTimeUnixNano: Uint64,
    endTimeUnixNano: Uint64,
    attributes: z.array(KeyValue).default([]),
    droppedAttributesCount: z.number().int().optional(),
    events: z.array(z.unknown()).optional(),
    links: z.array(z.unknown()).optional(),
    status: z
      .object({ code: z.number().int().min(0).max(2).optional(), message: z.string().optional() })
      .strict()
      .optional(),
  })
  .strict();

export const ExportTraceServiceRequest = z
  .object({
    resourceSpans: z.array(
      z
        .object({
          resource: z.object({ attributes: z.array(KeyValue) }).optional(),
          scopeSpans: z.array(
            z
              .object({
                scope: z.object({ name: z.string(), version: z.string().optional() }).optional(),
                spans: z.array(OtlpSpan),
              })
              .strict(),
          ),
          schemaUrl: z.string().optional(),
        })
        .strict(),
    ),
  })
  .strict();

/** A received span, with the service its resource names and its attributes as plain values. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string | number | boolean>;
  status: { code?: number | undefined; message?: string | undefined } | undefined;
}

function plain(attributes: z.infer<typeof KeyValue>[]) {
  return Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue),
    ]),
  ) as Record<string, string | number | boolean>;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  let body = '';
  request.setEncoding('utf8');
  for await (const chunk of request) body += chunk;
  return body;
}

export async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const requests: { headers: IncomingMessage['headers'] }[] = [];
  const server = createServer(async (request, response) => {
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url !== '/v1/traces') return answer(404, {});
    if (!request.headers['content-type']?.startsWith('application/json')) {
      return answer(415, { code: 3, message: 'only application/json is accepted here' });
    }
    let json: unknown;
    try {
      json = JSON.parse(await bodyOf(request));
    } catch {
      json = undefined;
    }
    const parsed = ExportTraceServiceRequest.safeParse(json);
    if (!parsed.success) return answer(400, { code: 3, message: parsed.error.message });
    requests.push({ headers: request.headers });
    for (const resource of parsed.data.resourceSpans) {
      const service = String(plain(resource.resource?.attributes ?? [])['service.name']);
      for (const scope of resource.scopeSpans) {
        for (const span of scope.spans) {
          spans.push({
            service,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId,
            name: span.name,
            kind: span.kind,
            startNs: BigInt(span.startTimeUnixNano),
            endNs: BigInt(span.endTimeUnixNano),
            attributes: plain(span.attributes),
            status: span.status,
          });
        }
      }
    }
    answer(200, { partialSuccess: {} });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
