import { createReadStream } from 'node:fs';
import { z } from 'zod';
import type { OutputFile } from '../../core/build-output';
import {
  type CommitReport,
  type DetectionReport,
  type JobResult,
  type JobSpec,
  JobSpecSchema,
  type LogBatch,
  type SpanReport,
  type StepReport,
} from '../../core/runner-protocol';
import { TRACEPARENT_HEADER } from '../../core/trace/context';
import { backoffDelayMs, REQUEST_BACKOFF, sleep } from './backoff';
import { type BlobSource, blobBatchForm, lacksBatchRoute } from './output-upload';

const MAX_TRIES = 6;

const MissingBlobsSchema = z.object({ missing: z.array(z.string()), bytes: z.number() });

/**
 * The platform refused a job request for good (the job token was revoked, the lease went to
 * another runner, the build was canceled): the attempt is over for this runner.
 */
export class JobRejectedError extends Error {
  override name = 'JobRejectedError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The job's HTTP API, authenticated by the job token from the offer; each call carries the
 * runner's current span as `traceparent`, when the build is traced.
 */
export class JobApi {
  private readonly base: string;

  constructor(
    url: string,
    private readonly buildId: string,
    private readonly jobToken: string,
    private readonly traceparent: () => string | undefined = () => undefined,
  ) {
    this.base = `${url.replace(/\/+$/, '')}/api/jobs/${buildId}`;
  }

  async spec(): Promise<JobSpec> {
    const response = await this.request('GET', '');
    return JobSpecSchema.parse(await response.json());
  }

  async steps(report: StepReport): Promise<void> {
    await this.request('POST', '/steps', json(report));
  }

  /** The commit checked out and its committer date (the platform fills what it lacks). */
  async commit(sha: string, committedAt: string): Promise<void> {
    const report: CommitReport = { commit_sha: sha, committed_at: committedAt };
    await this.request('POST', '/commit', json(report));
  }

  /** What detection found, for the project's page. A platform without the route does without. */
  async detection(report: DetectionReport): Promise<void> {
    await this.request('POST', '/detection', json(report)).catch((error: unknown) => {
      if (!(error instanceof JobRejectedError && error.status === 404)) throw error;
    });
  }

  async logs(batch: LogBatch): Promise<void> {
    await this.request('POST', '/logs', json(batch));
  }

  async missingBlobs(files: OutputFile[]): Promise<{ missing: string[]; bytes: number }> {
    const response = await this.request('POST', '/output/missing', json({ files }));
    return MissingBlobsSchema.parse(await response.json());
  }

  /** Streams the file; the platform wants its length up front. */
  async uploadBlob(hash: string, path: string, size: number): Promise<void> {
    await this.request('PUT', `/blobs/${hash}`, {
      // Node's fetch takes any async iterable of bytes; the Workers types here do not know that.
      body: () => createReadStream(path) as unknown as BodyInit,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
  }

  /** Small blobs in one request; false when the platform predates the batch route. */
  async uploadBlobs(blobs: readonly BlobSource[]): Promise<boolean> {
    const form = await blobBatchForm(blobs);
    return this.request('POST', '/blobs', { body: () => form }).then(
      () => true,
      (error: unknown) => {
        if (error instanceof JobRejectedError && lacksBatchRoute(error.status)) return false;
        throw error;
      },
    );
  }

  async commitOutput(files: OutputFile[]): Promise<void> {
    await this.request('PUT', '/output', json({ files }));
  }

  /**
   * The attempt's spans, best effort: a platform without the route (older), a refusal or an
   * outage loses them, never the result that follows. False when they were not recorded.
   */
  async spans(spans: SpanReport['spans']): Promise<boolean> {
    if (spans.length === 0) return true;
    return this.request('POST', '/spans', json({ spans })).then(
      () => true,
      () => false,
    );
  }

  async complete(result: JobResult): Promise<void> {
    await this.request('POST', '/complete', json(result));
  }

  /** Retries network failures and 5xx/429 with backoff; any other refusal ends the attempt. */
  private async request(
    method: string,
    path: string,
    init: { body?: string | (() => BodyInit); headers?: Record<string, string> } = {},
  ): Promise<Response> {
    let failure = '';
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      if (attempt > 0) await sleep(backoffDelayMs(attempt - 1, REQUEST_BACKOFF));
      let response: Response;
      try {
        const body = typeof init.body === 'function' ? init.body() : init.body;
        const traceparent = this.traceparent();
        response = await fetch(this.base + path, {
          method,
          body,
          headers: {
            ...init.headers,
            authorization: `Bearer ${this.jobToken}`,
            ...(traceparent ? { [TRACEPARENT_HEADER]: traceparent } : {}),
          },
          // A stream goes out as it is read (Node's fetch insists on saying so).
          ...(typeof body === 'object' && { duplex: 'half' }),
        });
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
        continue;
      }
      if (response.ok) return response;
      const detail = await response.text().catch(() => '');
      failure = `${method} ${path || '/'} for build ${this.buildId}: HTTP ${response.status} ${detail.slice(0, 300)}`;
      if (!retryable(response.status)) throw new JobRejectedError(response.status, failure);
    }
    throw new Error(`${failure} (gave up after ${MAX_TRIES} tries)`);
  }
}

function json(value: unknown) {
  return { body: JSON.stringify(value), headers: { 'content-type': 'application/json' } };
}
