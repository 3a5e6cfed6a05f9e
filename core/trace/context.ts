import { toHex } from '../digest';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` a pipeline run
 * carries from the webhook or API call that starts it through every hop, each hop recording its
 * span as a child of the one that handed the work on.
 */
export interface SpanContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId: string;
  /** Bit 0: sampled. Sparki keeps every pipeline run, so it sets it on what it starts. */
  flags: number;
}

export const TRACEPARENT_HEADER = 'traceparent';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const SAMPLED = 0x01;

/**
 * The context a `traceparent` value names, or undefined for one the specification says to
 * ignore (then the receiver starts a trace of its own). Versions after 00 are read by their 00
 * prefix, as the specification asks of a version it does not know.
 */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  const match = TRACEPARENT.exec(value?.trim() ?? '');
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version === 'ff') return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags.toString(16).padStart(2, '0')}`;
}

function randomHex(bytes: number): string {
  for (;;) {
    const hex = toHex(crypto.getRandomValues(new Uint8Array(bytes)));
    if (!/^0+$/.test(hex)) return hex;
  }
}

export function newSpanId(): string {
  return randomHex(8);
}

export function newTraceId(): string {
  return randomHex(16);
}

/** A new span in `parent`'s trace, or the root of a new trace when there is no parent. */
export function childContext(parent: SpanContext | undefined): SpanContext {
  return parent
    ? { traceId: parent.traceId, spanId: newSpanId(), flags: parent.flags }
    : { traceId: newTraceId(), spanId: newSpanId(), flags: SAMPLED };
}
