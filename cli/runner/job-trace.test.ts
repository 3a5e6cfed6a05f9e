import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../core/runner-protocol';
import { parseTraceparent } from '../../core/trace/context';
import { JobTrace } from './job-trace';

const LEASE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const spec = (traceparent: string | null) =>
  ({ attempt: 2, build_number: 7, traceparent }) as JobSpec;

describe('the runner’s spans of an attempt', () => {
  it('hangs each phase from the attempt’s span, a child of the lease, and reports them at the end', () => {
    const trace = new JobTrace(1_000);
    trace.begin(spec(LEASE));
    const during = parseTraceparent(trace.traceparent())!;
    trace.enter('checkout', 2_000);
    const checkout = parseTraceparent(trace.traceparent())!;
    expect(checkout.spanId).not.toBe(during.spanId);
    trace.enter('build', 3_000);
    trace.leave({ code: 'error', message: 'exit code 1' }, 4_000);
    const spans = trace.end({ status: 'failed', error: 'step "Build" failed (exit code 1)' });
    const attempt = spans.at(-1)!;
    expect(attempt).toMatchObject({
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      parent_span_id: '00f067aa0ba902b7',
      name: 'build attempt 2',
      start_ms: 1_000,
      phase: null,
      status: { code: 'error', message: 'step "Build" failed (exit code 1)' },
    });
    expect(spans.slice(0, -1).map((span) => [span.phase, span.start_ms, span.end_ms])).toEqual([
      ['runner_picked', 1_000, 2_000],
      ['checkout', 2_000, 3_000],
      ['build', 3_000, 4_000],
    ]);
    expect(spans.slice(0, -1).every((span) => span.parent_span_id === attempt.span_id)).toBe(true);
    expect(spans.find((span) => span.phase === 'checkout')!.span_id).toBe(checkout.spanId);
    // The result call goes out under the attempt's span; nothing is reported twice.
    expect(parseTraceparent(trace.traceparent())!.spanId).toBe(attempt.span_id);
    expect(trace.end({ status: 'failed' })).toEqual([]);
  });

  it('records nothing for a platform that sends no trace context', () => {
    const trace = new JobTrace();
    trace.begin(spec(null));
    trace.enter('checkout');
    expect(trace.traceparent()).toBeUndefined();
    expect(trace.end({ status: 'succeeded' })).toEqual([]);
  });
});
