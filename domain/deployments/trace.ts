import { formatTraceparent, TRACEPARENT_HEADER } from '../../core/trace/context';
import { errorStatus, OpenSpan, type Span } from '../../core/trace/span';
import type { Deployment } from '../../db/schema';
import { recordBuildSpans, type TraceDeps } from '../tracing/spans';
import type { Fetch } from './adapters';

/**
 * The deploy engine's spans of a deployment, children of the context it was asked for in: the
 * deploy itself (from the run's start to its first health check, `deploy`), each health check
 * (`health_check`, its requests carrying `traceparent`) and the moment it went live (`live`).
 */
export class DeploymentTrace {
  private readonly deploy: OpenSpan;
  private deployRecorded = false;
  private check: OpenSpan | undefined;

  constructor(
    private readonly deps: TraceDeps,
    private readonly deployment: Deployment,
  ) {
    this.deploy = new OpenSpan(`deploy ${deployment.platform}`, 'internal', deployment.traceparent);
    this.deploy.set({
      'sparki.deployment.id': deployment.id,
      'sparki.deployment.stage': deployment.stage,
      'sparki.deployment.strategy': deployment.strategy,
      'sparki.deployment.platform': deployment.platform,
    });
  }

  private record(span: Span, phase: 'deploy' | 'health_check' | 'live') {
    return recordBuildSpans(this.deps, [{ buildId: this.deployment.buildId, span, phase }]);
  }

  private async endDeploy(status: Span['status'] = { code: 'ok' }, at = Date.now()) {
    if (this.deployRecorded) return;
    this.deployRecorded = true;
    await this.record(this.deploy.end(status, at), 'deploy');
  }

  /** The health check's requests, each carrying the running check's trace context. */
  fetch(fetch: Fetch): Fetch {
    return (request) => {
      if (!this.check) return fetch(request);
      const traced = new Request(request);
      traced.headers.set(TRACEPARENT_HEADER, formatTraceparent(this.check.context));
      return fetch(traced);
    };
  }

  /** Runs one health check of `url` in a span of its own; the deploy ended when the first began. */
  async checked(url: string, run: () => Promise<void>): Promise<void> {
    const span = new OpenSpan('health check', 'client', this.deploy.context).set({
      'url.full': url,
    });
    await this.endDeploy({ code: 'ok' }, span.startMs);
    this.check = span;
    try {
      await run();
      await this.record(span.end({ code: 'ok' }), 'health_check');
    } catch (error) {
      await this.record(span.end(errorStatus(error)), 'health_check');
      throw error;
    } finally {
      this.check = undefined;
    }
  }

  async live(): Promise<void> {
    await this.endDeploy();
    const now = Date.now();
    await this.record(
      new OpenSpan('live', 'internal', this.deploy.context, now).end({ code: 'ok' }, now),
      'live',
    );
  }

  async failed(error: unknown): Promise<void> {
    await this.endDeploy(errorStatus(error));
  }
}
