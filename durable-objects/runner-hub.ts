import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import { admissibleJobs, pickRunner } from '../core/dispatch';
import {
  HEARTBEAT_INTERVAL_MS,
  type HubMessage,
  LEASE_TTL_MS,
  type RunnerMessage,
  RunnerMessageSchema,
} from '../core/runner-protocol';
import type { Database } from '../db/client';
import { notifyRunnerOffline } from '../domain/notifications/sources';
import { poolLimits } from '../domain/runners/pool';
import { markRunnerOffline, markRunnerOnline, markRunnerSeen } from '../domain/runners/presence';
import { RUNNER_IDENTITY_HEADER, RunnerIdentitySchema } from '../platform/durable-objects';
import { createLogger } from '../platform/logger';
import { createMetrics } from '../platform/metrics';
import { answerClose } from './answer-close';
import { RETRY_MS, RunnerHubLeases } from './runner-hub-leases';
import { type Attachment, attachmentOf, detach, readyRunners } from './runner-hub-sockets';
import { type Lease, type QueuedJob, RunnerHubStore } from './runner-hub-store';
import { RunnerHubWatches } from './runner-hub-watches';
import { runTask } from './task';

export const JobOfferSchema = z.object({
  buildId: z.uuid(),
  projectId: z.uuid(),
  labels: z.array(z.string()).default([]),
  // The offering hop's trace context; the lease's span continues it.
  traceparent: z.string().max(100).nullable().default(null),
});
export type JobOffer = z.input<typeof JobOfferSchema>;

/** runners.last_seen_at is written at most this often from heartbeats. */
const LAST_SEEN_WRITE_MS = 30_000;
const CLOSE_POLICY_VIOLATION = 1008;
const CLOSE_REPLACED = 4000;
const CLOSE_DISCONNECTED_BY_ADMIN = 4003;

/**
 * One per runner pool (a workspace): the connected runners (hibernatable WebSockets tagged with
 * the runner id) and the protocol they speak, in front of the persistent ordered job queue and
 * the leases (`RunnerHubStore`). A lease is one attempt of a build on one runner; heartbeats
 * keep it, a closed socket or an expired lease loses it (`RunnerHubLeases`), and the alarm
 * wakes the hub when a lease is due, or a runner has stayed away long enough for `runner.offline`
 * to be notified. Every state change runs one at a time (`serial`), because
 * Postgres calls would otherwise let events interleave.
 */
export class RunnerHub extends DurableObject<Env> {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly logger;
  private readonly store: RunnerHubStore;
  private readonly lifecycle: RunnerHubLeases;
  private readonly watches: RunnerHubWatches;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.logger = createLogger({ durable_object: 'RunnerHub' }, env.LOG_LEVEL);
    this.store = new RunnerHubStore(ctx.storage.sql);
    const metrics = createMetrics(env, this.logger);
    this.lifecycle = new RunnerHubLeases({
      env,
      logger: this.logger,
      store: this.store,
      metrics,
      withDb: (task) => this.withDb(task),
      send: (ws, message) => this.send(ws, message),
      tell: (runnerId, message) => this.tell(runnerId, message),
      armAlarm: (at) => this.armAlarm(at),
    });
    this.watches = new RunnerHubWatches({
      env,
      logger: this.logger,
      metrics,
      withDb: (task) => this.withDb(task),
      send: (ws, message) => this.send(ws, message),
      tell: (runnerId, message) => this.tell(runnerId, message),
      readyRunners: () => readyRunners(this.ctx),
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private withDb<T>(task: (db: Database) => Promise<T>): Promise<T> {
    return runTask(this.env, this.logger, ({ services }) => task(services.db()));
  }

  async offer(input: JobOffer): Promise<{ queued: boolean; position: number }> {
    const job = JobOfferSchema.parse(input);
    return this.serial(async () => {
      const queued = this.store.enqueue(job, Date.now());
      const position = this.store.positionOf(job.buildId);
      await this.dispatch();
      return { queued, position };
    });
  }

  async pending(): Promise<QueuedJob[]> {
    return this.store.pending();
  }

  async leases(): Promise<Lease[]> {
    return this.store.leases();
  }

  /** Takes a build off the queue before any runner got it; false if it is not waiting here. */
  async withdraw(buildId: string): Promise<boolean> {
    return this.serial(async () => this.store.removeJob(buildId));
  }

  /**
   * Cancel: a waiting build leaves the queue; a running one's runner is told to stop (it reports
   * `canceled` through the job API, which ends the lease).
   */
  async cancel(
    buildId: string,
    reason: string,
  ): Promise<{ state: 'withdrawn' | 'signalled' | 'unknown' }> {
    return this.serial(async () => {
      if (this.store.removeJob(buildId)) return { state: 'withdrawn' as const };
      const lease = this.store.lease(buildId);
      if (!lease) return { state: 'unknown' as const };
      this.tell(lease.runnerId, { type: 'cancel', build_id: buildId, reason });
      return { state: 'signalled' as const };
    });
  }

  /** The job API recorded the result: the lease ends and the runner's slot is free. */
  async complete(buildId: string, attempt: number): Promise<void> {
    await this.serial(async () => {
      this.store.completeLease(buildId, attempt);
      await this.dispatch();
    });
  }

  /**
   * A disabled or deleted runner: its sockets close and its jobs go back to the queue (an
   * administrator's decision, so not counted against the build's attempts).
   */
  async disconnectRunner(runnerId: string, reason: string): Promise<void> {
    await this.serial(async () => {
      for (const ws of this.ctx.getWebSockets(runnerId)) {
        detach(ws);
        ws.close(CLOSE_DISCONNECTED_BY_ADMIN, reason);
      }
      for (const lease of this.store.leasesOf(runnerId)) {
        await this.lifecycle.requeue(lease, reason);
      }
      await this.dispatch();
    });
  }

  /**
   * The workspace's polled repositories changed (a project's repository or settings): each
   * connected runner is sent its share again.
   */
  async refreshWatches(workspaceId: string): Promise<void> {
    await this.serial(() => this.watches.send(workspaceId));
  }

  /**
   * Asks the runner that polls the project to poll it now (a git hook saw a commit). The runner
   * told, or null when the project is not polled or no runner is connected.
   */
  async pollNow(workspaceId: string, projectId: string): Promise<string | null> {
    return this.serial(() => this.watches.pollNow(workspaceId, projectId));
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('Expected a WebSocket upgrade', { status: 426 });
    }
    const identity = RunnerIdentitySchema.parse(
      JSON.parse(request.headers.get(RUNNER_IDENTITY_HEADER) ?? 'null'),
    );
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [identity.runnerId]);
    server.serializeAttachment({
      ...identity,
      ready: false,
      lastSeenWrittenAt: 0,
    } satisfies Attachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const attachment = attachmentOf(ws);
    if (!attachment) return;
    let raw: unknown;
    try {
      raw = JSON.parse(typeof message === 'string' ? message : new TextDecoder().decode(message));
    } catch {
      this.send(ws, { type: 'error', message: 'Messages must be JSON' });
      return;
    }
    const parsed = RunnerMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.send(ws, { type: 'error', message: `Unrecognised message: ${parsed.error.message}` });
      if (!attachment.ready) ws.close(CLOSE_POLICY_VIOLATION, 'Unsupported protocol');
      return;
    }
    if (!attachment.ready && parsed.data.type !== 'hello') {
      this.send(ws, { type: 'error', message: 'Say hello first' });
      return;
    }
    // Not one at a time with the rest: recording heads may queue builds, which calls back into
    // this hub (withdrawing superseded builds) and would wait behind itself.
    if (parsed.data.type === 'heads') {
      await this.watches.heads(ws, attachment, parsed.data.project_id, parsed.data.heads);
      return;
    }
    await this.serial(() => this.handle(ws, attachment, parsed.data));
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    answerClose(ws, code, reason);
    await this.serial(() =>
      this.gone(ws, code === 1000 ? 'disconnected' : `disconnected (${code})`),
    );
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.serial(() => this.gone(ws, 'connection error'));
  }

  override async alarm(): Promise<void> {
    await this.serial(async () => {
      const now = Date.now();
      for (const lease of this.store.overdue(now)) {
        if (lease.deadline <= now) await this.lifecycle.timeOut(lease);
        else await this.lifecycle.lose(lease, 'heartbeat timeout');
      }
      for (const notice of this.store.takeOfflineNotices(now)) {
        await runTask(this.env, this.logger, (task) =>
          notifyRunnerOffline(task, notice.runnerId, new Date(notice.offlineAt)),
        ).catch((error) => this.logger.warn('runner_offline_notice_failed', { error }));
      }
      await this.dispatch();
      await this.armAlarm();
    });
  }

  private async handle(ws: WebSocket, attachment: Attachment, message: RunnerMessage) {
    switch (message.type) {
      case 'hello':
        return this.hello(ws, attachment, message.running);
      case 'heartbeat':
        return this.heartbeat(ws, attachment, message.running);
      case 'heads':
        return;
      case 'release': {
        const lease = this.store.lease(message.build_id);
        if (lease?.runnerId === attachment.runnerId && lease.attempt === message.attempt) {
          await this.lifecycle.requeue(
            lease,
            `released by runner "${lease.runnerName}": ${message.reason}`,
          );
          await this.dispatch();
        }
        return;
      }
    }
  }

  private async hello(ws: WebSocket, attachment: Attachment, running: string[]) {
    // A reconnect replaces the runner's older connection without dropping its leases.
    for (const other of this.ctx.getWebSockets(attachment.runnerId)) {
      if (other === ws) continue;
      detach(other);
      other.close(CLOSE_REPLACED, 'Replaced by a newer connection');
    }
    const ready: Attachment = {
      ...attachment,
      ready: true,
      lastSeenWrittenAt: Date.now(),
      watching: '',
    };
    ws.serializeAttachment(ready);
    // Back within the notice period: nobody hears it was gone.
    this.store.clearOffline(attachment.runnerId);
    this.keepLeases(ws, ready, running);
    // Recorded before the welcome, so a runner that has been welcomed is listed as online.
    await this.withDb((db) => markRunnerOnline(db, attachment.runnerId)).catch((error) =>
      this.logger.warn('runner_status_write_failed', { error }),
    );
    this.send(ws, {
      type: 'welcome',
      runner_id: attachment.runnerId,
      heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
      lease_ttl_ms: LEASE_TTL_MS,
    });
    await this.dispatch();
    await this.armAlarm();
    if (attachment.workspaceId) await this.watches.send(attachment.workspaceId);
  }

  private async heartbeat(ws: WebSocket, attachment: Attachment, running: string[]) {
    this.keepLeases(ws, attachment, running);
    await this.armAlarm();
    const now = Date.now();
    if (now - attachment.lastSeenWrittenAt < LAST_SEEN_WRITE_MS) return;
    ws.serializeAttachment({ ...attachment, lastSeenWrittenAt: now } satisfies Attachment);
    await this.withDb((db) => markRunnerSeen(db, attachment.runnerId, new Date(now))).catch(
      (error) => this.logger.warn('runner_status_write_failed', { error }),
    );
  }

  /** Extends the runner's leases it still reports; a build it runs without a lease must stop. */
  private keepLeases(ws: WebSocket, attachment: Attachment, running: string[]) {
    const expiresAt = Date.now() + LEASE_TTL_MS;
    for (const buildId of running) {
      if (!this.store.keepLease(buildId, attachment.runnerId, expiresAt)) {
        this.send(ws, {
          type: 'cancel',
          build_id: buildId,
          reason: 'This runner no longer holds the lease for the build',
        });
      }
    }
  }

  /** A socket closed or failed: unless the runner is still connected, its leases are lost. */
  private async gone(ws: WebSocket, reason: string) {
    const attachment = attachmentOf(ws);
    if (!attachment) return;
    detach(ws);
    const stillConnected = this.ctx
      .getWebSockets(attachment.runnerId)
      .some((other) => other !== ws && attachmentOf(other));
    if (stillConnected) return;
    for (const lease of this.store.leasesOf(attachment.runnerId)) {
      await this.lifecycle.lose(lease, reason);
    }
    await runTask(this.env, this.logger, async ({ services }) => {
      const at = Date.now();
      if (await markRunnerOffline(services.db(), attachment.runnerId, new Date(at))) {
        const graceMs = services.config.RUNNER_OFFLINE_NOTICE_SECONDS * 1000;
        this.store.noteOffline(attachment.runnerId, at, at + graceMs);
      }
    }).catch((error) => this.logger.warn('runner_status_write_failed', { error }));
    await this.dispatch();
    await this.armAlarm();
    // Its repositories go to the runners still connected.
    if (attachment.workspaceId) await this.watches.send(attachment.workspaceId);
  }

  /**
   * Offers the waiting jobs that the workspace's and their projects' concurrency limits admit,
   * oldest first, each to the runner `pickRunner` chooses among the connected ones.
   */
  private async dispatch(): Promise<void> {
    const waiting = this.store.pending();
    if (waiting.length === 0) return;
    const connected = readyRunners(this.ctx);
    if (connected.length === 0) return;
    const leases = this.store.leases();
    const load = new Map<string, number>();
    for (const lease of leases) load.set(lease.runnerId, (load.get(lease.runnerId) ?? 0) + 1);
    try {
      await this.withDb(async (db) => {
        const projectIds = [...waiting, ...leases].map((job) => job.projectId);
        const limits = await poolLimits(db, projectIds, this.logger);
        const admitted = admissibleJobs({
          queue: waiting,
          running: leases.map((lease) => lease.projectId),
          workspaceLimit: limits.workspaceLimit,
          projectLimit: limits.projectLimit,
        });
        for (const job of admitted) {
          const runner = pickRunner(job, connected, load);
          if (!runner) continue;
          const timeoutMs = limits.buildTimeoutMs(job.projectId);
          if (await this.lifecycle.grant(db, job, runner, runner.ws, timeoutMs)) {
            load.set(runner.runnerId, (load.get(runner.runnerId) ?? 0) + 1);
          }
        }
      });
    } catch (error) {
      this.logger.error('dispatch_failed', { error });
      await this.armAlarm(Date.now() + RETRY_MS);
      return;
    }
    await this.armAlarm();
  }

  /** The alarm fires at the earliest lease or offline notice due (or `retryAt`, if sooner). */
  private async armAlarm(retryAt?: number) {
    const wanted = [this.store.nextDue(), retryAt].filter(
      (at): at is number => typeof at === 'number',
    );
    if (wanted.length === 0) return;
    const at = Math.min(...wanted);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  private send(ws: WebSocket, message: HubMessage) {
    try {
      ws.send(JSON.stringify(message));
    } catch (error) {
      // Already closing: its close handler deals with the runner's leases.
      this.logger.debug('runner_send_failed', { error });
    }
  }

  private tell(runnerId: string, message: HubMessage) {
    for (const ws of this.ctx.getWebSockets(runnerId)) this.send(ws, message);
  }
}
