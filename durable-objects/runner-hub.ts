import { DurableObject } from 'cloudflare:workers';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { admissibleJobs, WORKSPACE_CONCURRENT_BUILDS } from '../core/dispatch';
import { type EffectiveProjectSettings, resolveProjectSettings } from '../core/project-settings';
import {
  HEARTBEAT_INTERVAL_MS,
  type HubMessage,
  LEASE_TTL_MS,
  MAX_ATTEMPTS,
  type RunnerMessage,
  RunnerMessageSchema,
} from '../core/runner-protocol';
import type { Database } from '../db/client';
import { builds, projects, runners, workspaces } from '../db/schema';
import { COMPLETION_MARGIN_MS } from '../domain/builds/limits';
import { closeBuildLog } from '../domain/builds/log';
import { announceBuildStatus } from '../domain/reporting/build-status';
import {
  buildSession,
  RUNNER_IDENTITY_HEADER,
  type RunnerIdentity,
  RunnerIdentitySchema,
} from '../platform/durable-objects';
import { createLogger } from '../platform/logger';
import { createServices } from '../platform/services';
import { signingKeys } from '../platform/tokens/access-tokens';
import { signJobToken } from '../platform/tokens/job-tokens';

export const JobOfferSchema = z.object({
  buildId: z.uuid(),
  projectId: z.uuid(),
  labels: z.array(z.string()).default([]),
});
export type JobOffer = z.input<typeof JobOfferSchema>;

export interface QueuedJob {
  buildId: string;
  projectId: string;
  labels: string[];
  enqueuedAt: number;
}

export interface Lease {
  buildId: string;
  projectId: string;
  runnerId: string;
  runnerName: string;
  attempt: number;
  expiresAt: number;
  deadline: number;
}

interface JobRow extends Record<string, SqlStorageValue> {
  build_id: string;
  project_id: string;
  labels: string;
  enqueued_at: number;
}

interface LeaseRow extends JobRow {
  runner_id: string;
  runner_name: string;
  attempt: number;
  expires_at: number;
  deadline: number;
}

interface Attachment extends RunnerIdentity {
  /** Said hello: jobs may be offered to it. */
  ready: boolean;
  lastSeenWrittenAt: number;
}

const Labels = z.array(z.string());
/** What a lease ending without a result leaves the build as. */
type EndedAs = 'planned' | 'canceled' | 'failed' | 'timed_out';
const PLANNABLE = ['queued', 'planned'] as const;
/** Postgres was unreachable: the alarm tries again this much later. */
const RETRY_MS = 5_000;
/** runners.last_seen_at is written at most this often from heartbeats. */
const LAST_SEEN_WRITE_MS = 30_000;
const CLOSE_POLICY_VIOLATION = 1008;
const CLOSE_REPLACED = 4000;
const CLOSE_DISCONNECTED_BY_ADMIN = 4003;

function toJob(row: JobRow): QueuedJob {
  return {
    buildId: row.build_id,
    projectId: row.project_id,
    labels: Labels.parse(JSON.parse(row.labels)),
    enqueuedAt: row.enqueued_at,
  };
}

function toLease(row: LeaseRow): Lease {
  return {
    buildId: row.build_id,
    projectId: row.project_id,
    runnerId: row.runner_id,
    runnerName: row.runner_name,
    attempt: row.attempt,
    expiresAt: row.expires_at,
    deadline: row.deadline,
  };
}

/** A runner takes a job only if it has every label the job asks for. */
function matches(job: QueuedJob, runner: RunnerIdentity): boolean {
  return job.labels.every((label) => runner.labels.includes(label));
}

/**
 * One per runner pool (a workspace): the connected runners (hibernatable WebSockets tagged with
 * the runner id), the persistent ordered job queue and the leases. A lease is one attempt of a
 * build on one runner; heartbeats keep it, a closed socket or an expired lease loses it, and a
 * lost job is offered again until MAX_ATTEMPTS losses fail the build. Every state change runs
 * one at a time (`serial`), because Postgres calls would otherwise let events interleave.
 */
export class RunnerHub extends DurableObject<Env> {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly logger;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.logger = createLogger({ durable_object: 'RunnerHub' }, env.LOG_LEVEL);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      build_id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL,
      labels TEXT NOT NULL,
      enqueued_at INTEGER NOT NULL
    )`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS leases (
      build_id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL,
      labels TEXT NOT NULL,
      enqueued_at INTEGER NOT NULL,
      runner_id TEXT NOT NULL,
      runner_name TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      deadline INTEGER NOT NULL
    )`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS losses (
      build_id TEXT PRIMARY KEY,
      reasons TEXT NOT NULL
    )`);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async withDb<T>(task: (db: Database) => Promise<T>): Promise<T> {
    const scoped = createServices(this.env);
    try {
      return await task(scoped.services.db());
    } finally {
      await scoped.close();
    }
  }

  async offer(input: JobOffer): Promise<{ queued: boolean; position: number }> {
    const job = JobOfferSchema.parse(input);
    return this.serial(async () => {
      const leased = this.ctx.storage.sql
        .exec('SELECT 1 FROM leases WHERE build_id = ?', job.buildId)
        .toArray().length;
      const inserted = leased
        ? 0
        : this.ctx.storage.sql.exec(
            'INSERT INTO jobs (build_id, project_id, labels, enqueued_at) VALUES (?, ?, ?, ?) ON CONFLICT (build_id) DO NOTHING',
            job.buildId,
            job.projectId,
            JSON.stringify(job.labels),
            Date.now(),
          ).rowsWritten;
      const position = this.positionOf(job.buildId);
      await this.dispatch();
      return { queued: inserted > 0, position };
    });
  }

  async pending(): Promise<QueuedJob[]> {
    return this.ctx.storage.sql
      .exec<JobRow>('SELECT * FROM jobs ORDER BY enqueued_at, rowid')
      .toArray()
      .map(toJob);
  }

  async leases(): Promise<Lease[]> {
    return this.ctx.storage.sql
      .exec<LeaseRow>('SELECT * FROM leases ORDER BY enqueued_at, rowid')
      .toArray()
      .map(toLease);
  }

  /** Takes a build off the queue before any runner got it; false if it is not waiting here. */
  async withdraw(buildId: string): Promise<boolean> {
    return this.serial(async () => this.removeJob(buildId));
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
      if (this.removeJob(buildId)) return { state: 'withdrawn' as const };
      const lease = this.lease(buildId);
      if (!lease) return { state: 'unknown' as const };
      for (const ws of this.ctx.getWebSockets(lease.runnerId)) {
        this.send(ws, { type: 'cancel', build_id: buildId, reason });
      }
      return { state: 'signalled' as const };
    });
  }

  /** The job API recorded the result: the lease ends and the runner's slot is free. */
  async complete(buildId: string, attempt: number): Promise<void> {
    await this.serial(async () => {
      const ended = this.ctx.storage.sql.exec(
        'DELETE FROM leases WHERE build_id = ? AND attempt = ?',
        buildId,
        attempt,
      ).rowsWritten;
      if (ended) this.ctx.storage.sql.exec('DELETE FROM losses WHERE build_id = ?', buildId);
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
        this.detach(ws);
        ws.close(CLOSE_DISCONNECTED_BY_ADMIN, reason);
      }
      for (const lease of this.leasesOf(runnerId)) await this.requeue(lease, reason);
      await this.dispatch();
    });
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
    const attachment = this.attachment(ws);
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
    await this.serial(() => this.handle(ws, attachment, parsed.data));
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
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
      const rows = this.ctx.storage.sql
        .exec<LeaseRow>('SELECT * FROM leases WHERE expires_at <= ? OR deadline <= ?', now, now)
        .toArray();
      for (const lease of rows.map(toLease)) {
        if (lease.deadline <= now) await this.timeOut(lease);
        else await this.lose(lease, 'heartbeat timeout');
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
      case 'release': {
        const lease = this.lease(message.build_id);
        if (lease?.runnerId === attachment.runnerId && lease.attempt === message.attempt) {
          await this.requeue(lease, `released by runner "${lease.runnerName}": ${message.reason}`);
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
      this.detach(other);
      other.close(CLOSE_REPLACED, 'Replaced by a newer connection');
    }
    const ready: Attachment = { ...attachment, ready: true, lastSeenWrittenAt: Date.now() };
    ws.serializeAttachment(ready);
    this.keepLeases(ws, ready, running);
    // Recorded before the welcome, so a runner that has been welcomed is listed as online.
    await this.withDb((db) =>
      db
        .update(runners)
        .set({ status: 'online', lastSeenAt: new Date() })
        .where(and(eq(runners.id, attachment.runnerId), isNull(runners.disabledAt))),
    ).catch((error) => this.logger.warn('runner_status_write_failed', { error }));
    this.send(ws, {
      type: 'welcome',
      runner_id: attachment.runnerId,
      heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
      lease_ttl_ms: LEASE_TTL_MS,
    });
    await this.dispatch();
    await this.armAlarm();
  }

  private async heartbeat(ws: WebSocket, attachment: Attachment, running: string[]) {
    this.keepLeases(ws, attachment, running);
    await this.armAlarm();
    const now = Date.now();
    if (now - attachment.lastSeenWrittenAt < LAST_SEEN_WRITE_MS) return;
    ws.serializeAttachment({ ...attachment, lastSeenWrittenAt: now } satisfies Attachment);
    await this.withDb((db) =>
      db
        .update(runners)
        .set({ lastSeenAt: new Date(now) })
        .where(eq(runners.id, attachment.runnerId)),
    ).catch((error) => this.logger.warn('runner_status_write_failed', { error }));
  }

  /** Extends the runner's leases it still reports; a build it runs without a lease must stop. */
  private keepLeases(ws: WebSocket, attachment: Attachment, running: string[]) {
    const expiresAt = Date.now() + LEASE_TTL_MS;
    for (const buildId of running) {
      const kept = this.ctx.storage.sql.exec(
        'UPDATE leases SET expires_at = ? WHERE build_id = ? AND runner_id = ?',
        expiresAt,
        buildId,
        attachment.runnerId,
      ).rowsWritten;
      if (!kept) {
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
    const attachment = this.attachment(ws);
    if (!attachment) return;
    this.detach(ws);
    const stillConnected = this.ctx
      .getWebSockets(attachment.runnerId)
      .some((other) => other !== ws && this.attachment(other));
    if (stillConnected) return;
    for (const lease of this.leasesOf(attachment.runnerId)) await this.lose(lease, reason);
    await this.withDb((db) =>
      db
        .update(runners)
        .set({ status: 'offline', lastSeenAt: new Date() })
        .where(and(eq(runners.id, attachment.runnerId), eq(runners.status, 'online'))),
    ).catch((error) => this.logger.warn('runner_status_write_failed', { error }));
    await this.dispatch();
  }

  /**
   * Offers the waiting jobs that the workspace's and their projects' concurrency limits admit,
   * oldest first, each to the least loaded connected runner that has its labels and a free slot.
   */
  private async dispatch(): Promise<void> {
    const waiting = await this.pending();
    if (waiting.length === 0) return;
    const connected = this.readyRunners();
    if (connected.size === 0) return;
    const leases = await this.leases();
    const load = new Map<string, number>();
    for (const lease of leases) load.set(lease.runnerId, (load.get(lease.runnerId) ?? 0) + 1);
    try {
      await this.withDb(async (db) => {
        const { plan, settings } = await this.poolSettings(db, [...waiting, ...leases]);
        const admitted = admissibleJobs({
          queue: waiting,
          running: leases.map((lease) => lease.projectId),
          workspaceLimit: WORKSPACE_CONCURRENT_BUILDS[plan],
          projectLimit: (projectId) => settings.get(projectId)?.max_concurrent_builds ?? undefined,
        });
        for (const job of admitted) {
          const runner = [...connected.values()]
            .filter(
              ({ identity }) =>
                matches(job, identity) && (load.get(identity.runnerId) ?? 0) < identity.capacity,
            )
            .sort(
              (a, b) =>
                (load.get(a.identity.runnerId) ?? 0) / a.identity.capacity -
                (load.get(b.identity.runnerId) ?? 0) / b.identity.capacity,
            )[0];
          if (!runner) continue;
          const timeoutMs = (settings.get(job.projectId) ?? resolveProjectSettings({}))
            .build_timeout_ms;
          if (await this.grant(db, job, runner.identity, runner.ws, timeoutMs)) {
            load.set(runner.identity.runnerId, (load.get(runner.identity.runnerId) ?? 0) + 1);
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

  /** The workspace's plan and the settings of the projects with waiting or running jobs. */
  private async poolSettings(db: Database, jobs: { projectId: string }[]) {
    const rows = await db
      .select({ id: projects.id, settings: projects.settings, plan: workspaces.plan })
      .from(projects)
      .innerJoin(workspaces, eq(workspaces.id, projects.workspaceId))
      .where(inArray(projects.id, [...new Set(jobs.map((job) => job.projectId))]));
    const settings = new Map<string, EffectiveProjectSettings>();
    for (const row of rows) {
      try {
        settings.set(row.id, resolveProjectSettings(row.settings));
      } catch (error) {
        // Settings that no longer parse must not stall the whole pool: defaults apply.
        this.logger.warn('project_settings_invalid', { project_id: row.id, error });
        settings.set(row.id, resolveProjectSettings({}));
      }
    }
    return { plan: rows[0]?.plan ?? 'free', settings };
  }

  /** Attempt N+1: the build runs on this runner now, and the runner gets its job token. */
  private async grant(
    db: Database,
    job: QueuedJob,
    runner: RunnerIdentity,
    ws: WebSocket,
    buildTimeoutMs: number,
  ) {
    const startedAt = new Date();
    const [row] = await db
      .update(builds)
      .set({
        status: 'running',
        runnerId: runner.runnerId,
        attempt: sql`${builds.attempt} + 1`,
        startedAt,
      })
      .where(
        and(
          eq(builds.id, job.buildId),
          inArray(builds.status, [...PLANNABLE]),
          isNull(builds.cancelRequestedAt),
        ),
      )
      .returning({ attempt: builds.attempt });
    // Canceled or finished meanwhile: nothing left to run.
    this.removeJob(job.buildId);
    if (!row) return false;
    const now = startedAt.getTime();
    const lifetimeMs = buildTimeoutMs + COMPLETION_MARGIN_MS;
    this.ctx.storage.sql.exec(
      `INSERT INTO leases (build_id, project_id, labels, enqueued_at, runner_id, runner_name, attempt, expires_at, deadline)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      job.buildId,
      job.projectId,
      JSON.stringify(job.labels),
      job.enqueuedAt,
      runner.runnerId,
      runner.name,
      row.attempt,
      now + LEASE_TTL_MS,
      now + lifetimeMs,
    );
    const config = createServices(this.env).services.config;
    const jobToken = await signJobToken(
      await signingKeys(config.JWT_SIGNING_KEYS),
      config.PUBLIC_URL,
      { buildId: job.buildId, runnerId: runner.runnerId, attempt: row.attempt },
      lifetimeMs / 1000,
    );
    this.send(ws, {
      type: 'job',
      build_id: job.buildId,
      attempt: row.attempt,
      job_token: jobToken,
    });
    this.logger.info('job_leased', {
      build_id: job.buildId,
      runner_id: runner.runnerId,
      attempt: row.attempt,
    });
    await announceBuildStatus(this.env, [job.buildId], this.logger);
    return true;
  }

  /**
   * A lease ended without a result. The build waits again (or fails once it has been lost
   * MAX_ATTEMPTS times); if Postgres cannot be reached the lease stays, expired, for the alarm.
   */
  private async lose(lease: Lease, reason: string) {
    const reasons = [...this.lossesOf(lease.buildId), `runner "${lease.runnerName}": ${reason}`];
    const exhausted = reasons.length >= MAX_ATTEMPTS;
    const error = `Runners lost the job ${reasons.length} times (${reasons.join('; ')}); giving up`;
    let status: EndedAs | undefined;
    try {
      status = await this.endAttempt(lease, exhausted ? { status: 'failed', error } : 'requeue');
    } catch (err) {
      this.logger.error('lease_loss_not_recorded', { build_id: lease.buildId, error: err });
      await this.retryLater(lease, 'expires_at');
      return;
    }
    if (!status) return;
    this.logger.warn('lease_lost', { build_id: lease.buildId, attempt: lease.attempt, reason });
    if (status !== 'planned') {
      this.ctx.storage.sql.exec('DELETE FROM losses WHERE build_id = ?', lease.buildId);
      await this.report(lease.buildId, status, exhausted ? error : `Canceled (${reason})`);
      return;
    }
    this.ctx.storage.sql.exec(
      'INSERT INTO losses (build_id, reasons) VALUES (?, ?) ON CONFLICT (build_id) DO UPDATE SET reasons = excluded.reasons',
      lease.buildId,
      JSON.stringify(reasons),
    );
    await this.report(
      lease.buildId,
      status,
      `Runner "${lease.runnerName}" lost the job (${reason}); offering it again (${reasons.length} of ${MAX_ATTEMPTS} losses allowed)`,
    );
  }

  /** Postgres could not be reached: the lease stays, and the alarm tries again shortly. */
  private async retryLater(lease: Lease, column: 'expires_at' | 'deadline') {
    const at = Date.now() + RETRY_MS;
    this.ctx.storage.sql.exec(
      `UPDATE leases SET ${column} = ? WHERE build_id = ?`,
      at,
      lease.buildId,
    );
    await this.armAlarm(at);
  }

  /** Back to the queue in its original place, without counting a loss. */
  private async requeue(lease: Lease, reason: string) {
    let status: EndedAs | undefined;
    try {
      status = await this.endAttempt(lease, 'requeue');
    } catch (error) {
      // The lease stays; with no heartbeat for it, the alarm loses it and offers it again.
      this.logger.error('requeue_not_recorded', { build_id: lease.buildId, error });
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

  private async timeOut(lease: Lease) {
    const error = `No result from runner "${lease.runnerName}" by the build's time limit`;
    let status: EndedAs | undefined;
    try {
      status = await this.endAttempt(lease, { status: 'timed_out', error });
    } catch (err) {
      this.logger.error('timeout_not_recorded', { build_id: lease.buildId, error: err });
      await this.retryLater(lease, 'deadline');
      return;
    }
    if (!status) return;
    for (const ws of this.ctx.getWebSockets(lease.runnerId)) {
      this.send(ws, { type: 'cancel', build_id: lease.buildId, reason: error });
    }
    this.ctx.storage.sql.exec('DELETE FROM losses WHERE build_id = ?', lease.buildId);
    await this.report(lease.buildId, status, error);
  }

  /**
   * Ends the lease, here and (for the same attempt still running) in Postgres. `requeue` puts
   * the build back in its old place in the queue, unless a cancel was requested: then it ends
   * as canceled (no runner would take it again). Returns the build's new status, or undefined
   * when it had finished meanwhile (left as it is). Throws, leaving the lease in place, when
   * Postgres cannot be reached.
   */
  private async endAttempt(
    lease: Lease,
    outcome: 'requeue' | { status: 'failed' | 'timed_out'; error: string },
  ): Promise<EndedAs | undefined> {
    const change =
      outcome === 'requeue'
        ? {
            status: sql<EndedAs>`CASE WHEN ${builds.cancelRequestedAt} IS NULL THEN 'planned' ELSE 'canceled' END::build_status`,
            runnerId: null,
            finishedAt: sql<Date | null>`CASE WHEN ${builds.cancelRequestedAt} IS NULL THEN NULL ELSE now() END`,
          }
        : { ...outcome, finishedAt: new Date() };
    const [updated] = await this.withDb((db) =>
      db
        .update(builds)
        .set(change)
        .where(
          and(
            eq(builds.id, lease.buildId),
            eq(builds.status, 'running'),
            eq(builds.attempt, lease.attempt),
          ),
        )
        .returning({ status: builds.status }),
    );
    const row = this.ctx.storage.sql
      .exec<LeaseRow>('SELECT * FROM leases WHERE build_id = ?', lease.buildId)
      .toArray()[0];
    this.ctx.storage.sql.exec('DELETE FROM leases WHERE build_id = ?', lease.buildId);
    if (updated?.status === 'planned' && row) {
      this.ctx.storage.sql.exec(
        'INSERT INTO jobs (build_id, project_id, labels, enqueued_at) VALUES (?, ?, ?, ?) ON CONFLICT (build_id) DO NOTHING',
        row.build_id,
        row.project_id,
        row.labels,
        row.enqueued_at,
      );
    }
    return updated && (updated.status as EndedAs);
  }

  /**
   * Tells the build's watchers and its commit status what happened; a build that ended here gets
   * its log closed.
   */
  private async report(buildId: string, status: EndedAs, text: string) {
    await this.note(buildId, text);
    if (status !== 'planned') {
      await this.withDb((db) => closeBuildLog(this.env, db, buildId, status)).catch(
        (error: unknown) =>
          this.logger.warn('build_log_close_failed', { build_id: buildId, error }),
      );
    }
    await announceBuildStatus(this.env, [buildId], this.logger);
  }

  /** A system line in the build's log, so whoever watches sees why the build waits or failed. */
  private async note(buildId: string, text: string) {
    await buildSession(this.env, buildId)
      .append([{ stream: 'system', text, ts: Date.now() }])
      .catch((error: unknown) =>
        this.logger.warn('build_note_failed', { build_id: buildId, error }),
      );
  }

  /** The alarm fires at the earliest lease expiry or deadline (or `retryAt`, if sooner). */
  private async armAlarm(retryAt?: number) {
    const { next } = this.ctx.storage.sql
      .exec<{ next: number | null }>('SELECT MIN(MIN(expires_at, deadline)) AS next FROM leases')
      .one();
    const wanted = [next, retryAt].filter((at): at is number => typeof at === 'number');
    if (wanted.length === 0) return;
    const at = Math.min(...wanted);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  private positionOf(buildId: string): number {
    const row = this.ctx.storage.sql
      .exec<{ enqueued_at: number }>('SELECT enqueued_at FROM jobs WHERE build_id = ?', buildId)
      .toArray()[0];
    if (!row) return 0;
    return this.ctx.storage.sql
      .exec<{ position: number }>(
        'SELECT COUNT(*) AS position FROM jobs WHERE enqueued_at < ? OR (enqueued_at = ? AND rowid <= (SELECT rowid FROM jobs WHERE build_id = ?))',
        row.enqueued_at,
        row.enqueued_at,
        buildId,
      )
      .one().position;
  }

  private removeJob(buildId: string): boolean {
    return (
      this.ctx.storage.sql.exec('DELETE FROM jobs WHERE build_id = ?', buildId).rowsWritten > 0
    );
  }

  private lease(buildId: string): Lease | undefined {
    const row = this.ctx.storage.sql
      .exec<LeaseRow>('SELECT * FROM leases WHERE build_id = ?', buildId)
      .toArray()[0];
    return row && toLease(row);
  }

  private leasesOf(runnerId: string): Lease[] {
    return this.ctx.storage.sql
      .exec<LeaseRow>('SELECT * FROM leases WHERE runner_id = ?', runnerId)
      .toArray()
      .map(toLease);
  }

  private lossesOf(buildId: string): string[] {
    const row = this.ctx.storage.sql
      .exec<{ reasons: string }>('SELECT reasons FROM losses WHERE build_id = ?', buildId)
      .toArray()[0];
    return row ? Labels.parse(JSON.parse(row.reasons)) : [];
  }

  private attachment(ws: WebSocket): Attachment | undefined {
    return (ws.deserializeAttachment() as Attachment | null) ?? undefined;
  }

  /** A socket being closed by the hub no longer counts as the runner's connection. */
  private detach(ws: WebSocket) {
    ws.serializeAttachment(null);
  }

  private readyRunners(): Map<string, { identity: RunnerIdentity; ws: WebSocket }> {
    const connected = new Map<string, { identity: RunnerIdentity; ws: WebSocket }>();
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = this.attachment(ws);
      if (attachment?.ready) connected.set(attachment.runnerId, { identity: attachment, ws });
    }
    return connected;
  }

  private send(ws: WebSocket, message: HubMessage) {
    try {
      ws.send(JSON.stringify(message));
    } catch (error) {
      // Already closing: its close handler deals with the runner's leases.
      this.logger.debug('runner_send_failed', { error });
    }
  }
}
