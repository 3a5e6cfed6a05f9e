import type { JobResult, JobSpec, SpanReport } from '../../core/runner-protocol';
import { formatTraceparent } from '../../core/trace/context';
import { OpenSpan, type Span } from '../../core/trace/span';

type RunnerPhase = SpanReport['spans'][number]['phase'] & string;
type ReportedSpan = Span & { phase: RunnerPhase | null };

/**
 * The runner's share of the build's trace: one span for the attempt, a child of the lease's span
 * the job spec names, and one per phase it runs (runner picked, checkout, install, build,
 * upload), reported to the platform before the result. A platform that sends no trace context
 * gets no spans.
 */
export class JobTrace {
  private job: OpenSpan | undefined;
  private current: { phase: RunnerPhase; span: OpenSpan } | undefined;
  private readonly finished: ReportedSpan[] = [];
  private ended = false;

  /** `receivedAt`: when the hub's offer arrived, where the runner's part of the run begins. */
  constructor(private readonly receivedAt = Date.now()) {}

  /** The spec arrived: the runner has picked the job up. */
  begin(spec: JobSpec): void {
    if (!spec.traceparent) return;
    this.job = new OpenSpan(
      `build attempt ${spec.attempt}`,
      'internal',
      spec.traceparent,
      this.receivedAt,
    );
    this.job.set({ 'sparki.build.number': spec.build_number, 'sparki.attempt': spec.attempt });
    this.enter('runner_picked', this.receivedAt);
  }

  /** The next phase starts; the one running ends, as succeeded. */
  enter(phase: RunnerPhase, at = Date.now()): void {
    if (!this.job || this.ended) return;
    this.leave({ code: 'ok' }, at);
    this.current = {
      phase,
      span: new OpenSpan(phase.replace('_', ' '), 'internal', this.job.context, at),
    };
  }

  /** The running phase ends (a failed step ends it with an error). */
  leave(status: Span['status'] = { code: 'ok' }, at = Date.now()): void {
    if (!this.current) return;
    this.finished.push({ ...this.current.span.end(status, at), phase: this.current.phase });
    this.current = undefined;
  }

  /** What a job API call sends as `traceparent`: the running phase's span, else the attempt's. */
  traceparent(): string | undefined {
    const span = this.current?.span ?? this.job;
    return span && formatTraceparent(span.context);
  }

  /** The attempt ended with `result`: every span, for `POST …/spans`; none without a trace. */
  end(result: JobResult): SpanReport['spans'] {
    if (!this.job || this.ended) return [];
    const status: Span['status'] =
      result.status === 'succeeded'
        ? { code: 'ok' }
        : { code: 'error', message: (result.error ?? result.status).slice(0, 500) };
    this.leave(status);
    const job = this.job.set({ 'sparki.build.status': result.status }).end(status);
    // The result call still goes out under the attempt's span: the deploy engine continues it.
    this.ended = true;
    return [...this.finished.splice(0), { ...job, phase: null }];
  }
}
