import { type HubMessage, LEASE_TTL_MS, MAX_ATTEMPTS } from '../core/runner-protocol';
import { formatTraceparent } from '../core/trace/context';
import { OpenSpan } from '../core/trace/span';
import type { Database } from '../db/client';
import { COMPLETION_MARGIN_MS } from '../domain/builds/limits';
import { announceBuildStatus } from '../domain/reporting/build-status';
import {
  type AttemptOutcome,
  type AttemptReportDeps,
  attemptToken,
  type EndedAs,
  endAttempt,
  reportAttemptEnd,
  startAttempt,
} from '../domain/runners/attempts';
import { recordBuildSpans } from '../domain/tracing/spans';
import type { RunnerIdentity } from '../platform/durable-objects';
import type { Metrics } from '../platform/metrics';
import { createServices } from '../platform/services';
import type { Lease, QueuedJob, RunnerHubStore } from './runner-hub-store';

/** Postgres was unreachable: the alarm tries again this much later. */
export const RETRY_MS = 5_000;

export interface LeaseDeps extends AttemptReportDeps {
  store: RunnerHubStore;
  metrics: Metrics;
  send(ws: WebSocket, message: HubMessage): void;
  /** Sends to every connection of the runner. */
  tell(runnerId: string, message: HubMessage): void;
  /** Wakes the hub at `at`, or earlier if something else is due sooner. */
  armAlarm(at: number): Promise<void>;
}

/**
 * How a lease begins and ends, kept in step in two places: the lease in the hub's store and the
 * attempt in Postgres. Postgres is written first; when it cannot be reached the lease stays,
 * for the alarm to try again. The hub calls these one at a time.
 */
export class RunnerHubLeases {
  constructor(private readonly deps: LeaseDeps) {}

  /**
   * Attempt N+1: the build runs on this runner now, and the runner gets its job token. The time
   * the job waited here for a runner is the timeline's `planned` phase; its span's context is
   * what the runner's job spec continues.
   */
  async grant(
    db: Database,
    job: QueuedJob,
    runner: RunnerIdentity,
    ws: WebSocket,
    buildTimeoutMs: number,
  ): Promise<boolean> {
    const { env, logger, store } = this.deps;
    const startedAt = new Date();
    const planned = new OpenSpan('planned', 'internal', job.traceparent, job.enqueuedAt).set({
      'sparki.runner.id': runner.runnerId,
      'sparki.runner.name': runner.name,
    });
    const started = await startAttempt(db, job.buildId, runner.runnerId, startedAt, {
      traceparent: formatTraceparent(planned.context),
    });
    // Canceled or finished meanwhile: nothing left to run.
    store.removeJob(job.buildId);
    if (started === undefined) return false;
    const { attempt } = started;
    const now = startedAt.getTime();
    const lifetimeMs = buildTimeoutMs + COMPLETION_MARGIN_MS;
    store.addLease({
      ...job,
      runnerId: runner.runnerId,
      runnerName: runner.name,
      attempt,
      expiresAt: now + LEASE_TTL_MS,
      deadline: now + lifetimeMs,
    });
    const { config } = createServices(env).services;
    const jobToken = await attemptToken(
      config,
      { buildId: job.buildId, runnerId: runner.runnerId, attempt },
      lifetimeMs,
    );
    this.deps.send(ws, { type: 'job', build_id: job.buildId, attempt, job_token: jobToken });
    logger.info('job_leased', { build_id: job.buildId, runner_id: runner.runnerId, attempt });
    // A job offered again after a lost lease keeps its first place and time in the queue, so only
    // the first lease measures how long the build waited.
    if (attempt === 1) {
      this.deps.metrics.record({
        type: 'build_leased',
        projectId: job.projectId,
        workspaceId: runner.workspaceId,
        runnerId: runner.runnerId,
        queueWaitSeconds: (now - started.queuedAt.getTime()) / 1000,
        pickupSeconds: (now - job.enqueuedAt) / 1000,
      });
    }
    // After the offer is on its way: recording never delays a runner's start.
    await recordBuildSpans({ db, config, logger }, [
      {
        buildId: job.buildId,
        span: planned.set({ 'sparki.attempt': attempt }).end({ code: 'ok' }, now),
        phase: 'planned',
      },
    ]);
    await announceBuildStatus(env, [job.buildId], logger);
    return true;
  }

  /**
   * A lease ended without a result. The build waits again (or fails once it has been lost
   * MAX_ATTEMPTS times); if Postgres cannot be reached the lease stays, expired, for the alarm.
   */
  async lose(lease: Lease, reason: string): Promise<void> {
    const { logger, store } = this.deps;
    const reasons = [...store.lossesOf(lease.buildId), `runner "${lease.runnerName}": ${reason}`];
    const exhausted = reasons.length >= MAX_ATTEMPTS;
    const error = `Runners lost the job ${reasons.length} times (${reasons.join('; ')}); giving up`;
    let status: EndedAs | undefined;
    try {
      status = await this.end(lease, exhausted ? { status: 'failed', error } : 'requeue');
    } catch (err) {
      logger.error('lease_loss_not_recorded', { build_id: lease.buildId, error: err });
      await this.retryLater(lease, 'expires_at');
      return;
    }
    if (!status) return;
    logger.warn('lease_lost', { build_id: lease.buildId, attempt: lease.attempt, reason });
    if (status !== 'planned') {
      store.forgetLosses(lease.buildId);
      await this.report(lease.buildId, status, exhausted ? error : `Canceled (${reason})`);
      return;
    }
    store.setLosses(lease.buildId, reasons);
    await this.report(
      lease.buildId,
      status,
      `Runner "${lease.runnerName}" lost the job (${reason}); offering it again (${reasons.length} of ${MAX_ATTEMPTS} losses allowed)`,
    );
  }

  /** Back to the queue in its original place, without counting a loss. */
  async requeue(lease: Lease, reason: string): Promise<void> {
    let status: EndedAs | undefined;
    try {
      status = await this.end(lease, 'requeue');
    } catch (error) {
      // The lease stays; with no heartbeat for it, the alarm loses it and offers it again.
      this.deps.logger.error('requeue_not_recorded', { build_id: lease.buildId, error });
      return;
    }
    if (!status) return;
    await this.report(
      lease.buildId,
      status,
      status === 'planned'
        ? `Job handed back (${reason}); offering it again`
        : `Canceled (${reason})`,
    );
  }

  async timeOut(lease: Lease): Promise<void> {
    const error = `No result from runner "${lease.runnerName}" by the build's time limit`;
    let status: EndedAs | undefined;
    try {
      status = await this.end(lease, { status: 'timed_out', error });
    } catch (err) {
      this.deps.logger.error('timeout_not_recorded', { build_id: lease.buildId, error: err });
      await this.retryLater(lease, 'deadline');
      return;
    }
    if (!status) return;
    this.deps.tell(lease.runnerId, { type: 'cancel', build_id: lease.buildId, reason: error });
    this.deps.store.forgetLosses(lease.buildId);
    await this.report(lease.buildId, status, error);
  }

  /** Postgres could not be reached: the lease stays, and the alarm tries again shortly. */
  private async retryLater(lease: Lease, column: 'expires_at' | 'deadline') {
    const at = Date.now() + RETRY_MS;
    this.deps.store.postpone(lease.buildId, column, at);
    await this.deps.armAlarm(at);
  }

  /**
   * Ends the attempt in Postgres (if it is still the running one), then the lease here; a build
   * waiting again goes back to its old place in the queue. Throws, leaving the lease in place,
   * when Postgres cannot be reached.
   */
  private async end(lease: Lease, outcome: AttemptOutcome) {
    const status = await this.deps.withDb((db) => endAttempt(db, lease, outcome));
    this.deps.store.dropLease(lease.buildId, status === 'planned');
    if (status && status !== 'planned') {
      this.deps.metrics.record({
        type: 'build_finished',
        result: status,
        projectId: lease.projectId,
      });
    }
    return status;
  }

  private report(buildId: string, status: EndedAs, text: string) {
    return reportAttemptEnd(this.deps, buildId, status, text);
  }
}
