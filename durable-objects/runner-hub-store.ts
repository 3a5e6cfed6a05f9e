import { z } from 'zod';

/** A build waiting in the hub's queue for a runner. */
export interface QueuedJob {
  buildId: string;
  projectId: string;
  labels: string[];
  enqueuedAt: number;
  /** The context of the hop that offered it (the builds consumer's span): its lease continues it. */
  traceparent: string | null;
}

/** One attempt of a build on one runner; it keeps its place in the queue should it go back. */
export interface Lease extends QueuedJob {
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
  traceparent: string | null;
}

interface LeaseRow extends JobRow {
  runner_id: string;
  runner_name: string;
  attempt: number;
  expires_at: number;
  deadline: number;
}

const Strings = z.array(z.string());

function toJob(row: JobRow): QueuedJob {
  return {
    buildId: row.build_id,
    projectId: row.project_id,
    labels: Strings.parse(JSON.parse(row.labels)),
    enqueuedAt: row.enqueued_at,
    traceparent: row.traceparent,
  };
}

function toLease(row: LeaseRow): Lease {
  return {
    ...toJob(row),
    runnerId: row.runner_id,
    runnerName: row.runner_name,
    attempt: row.attempt,
    expiresAt: row.expires_at,
    deadline: row.deadline,
  };
}

/**
 * The RunnerHub's SQLite state: the ordered job queue, the leases, and the reasons each build's
 * earlier leases were lost (counted against MAX_ATTEMPTS). Synchronous, so a caller's changes
 * between two awaits are never interleaved with another event's.
 */
export class RunnerHubStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      build_id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL,
      labels TEXT NOT NULL,
      enqueued_at INTEGER NOT NULL
    )`);
    sql.exec(`CREATE TABLE IF NOT EXISTS leases (
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
    sql.exec(`CREATE TABLE IF NOT EXISTS losses (
      build_id TEXT PRIMARY KEY,
      reasons TEXT NOT NULL
    )`);
    // Runners whose last connection closed, until `runner.offline` is notified at notify_at (or
    // they come back first, which notifies nobody).
    sql.exec(`CREATE TABLE IF NOT EXISTS offline_notices (
      runner_id TEXT PRIMARY KEY,
      offline_at INTEGER NOT NULL,
      notify_at INTEGER NOT NULL
    )`);
    // Added after the tables first shipped: a hub created before then gets the column now.
    for (const table of ['jobs', 'leases']) this.addColumn(table, 'traceparent TEXT');
  }

  private addColumn(table: string, definition: string) {
    try {
      this.sql.exec(`ALTER TABLE ${table} ADD COLUMN ${definition}`);
    } catch (error) {
      if (!String(error).includes('duplicate column')) throw error;
    }
  }

  /** Queues a job at the back, unless it is queued or leased already; true if it was added. */
  enqueue(job: Omit<QueuedJob, 'enqueuedAt'>, now: number): boolean {
    if (this.lease(job.buildId)) return false;
    return this.insertJob({ ...job, enqueuedAt: now });
  }

  /** 1-based place in the queue; 0 when the job is not waiting. */
  positionOf(buildId: string): number {
    const row = this.sql
      .exec<{ enqueued_at: number }>('SELECT enqueued_at FROM jobs WHERE build_id = ?', buildId)
      .toArray()[0];
    if (!row) return 0;
    return this.sql
      .exec<{ position: number }>(
        'SELECT COUNT(*) AS position FROM jobs WHERE enqueued_at < ? OR (enqueued_at = ? AND rowid <= (SELECT rowid FROM jobs WHERE build_id = ?))',
        row.enqueued_at,
        row.enqueued_at,
        buildId,
      )
      .one().position;
  }

  /** The waiting jobs, oldest first. */
  pending(): QueuedJob[] {
    return this.sql
      .exec<JobRow>('SELECT * FROM jobs ORDER BY enqueued_at, rowid')
      .toArray()
      .map(toJob);
  }

  /** False if the job was not waiting. */
  removeJob(buildId: string): boolean {
    return this.sql.exec('DELETE FROM jobs WHERE build_id = ?', buildId).rowsWritten > 0;
  }

  leases(): Lease[] {
    return this.sql
      .exec<LeaseRow>('SELECT * FROM leases ORDER BY enqueued_at, rowid')
      .toArray()
      .map(toLease);
  }

  lease(buildId: string): Lease | undefined {
    const row = this.sql
      .exec<LeaseRow>('SELECT * FROM leases WHERE build_id = ?', buildId)
      .toArray()[0];
    return row && toLease(row);
  }

  leasesOf(runnerId: string): Lease[] {
    return this.sql
      .exec<LeaseRow>('SELECT * FROM leases WHERE runner_id = ?', runnerId)
      .toArray()
      .map(toLease);
  }

  /** Leases whose heartbeat or deadline has passed. */
  overdue(now: number): Lease[] {
    return this.sql
      .exec<LeaseRow>('SELECT * FROM leases WHERE expires_at <= ? OR deadline <= ?', now, now)
      .toArray()
      .map(toLease);
  }

  /** The earliest lease expiry, deadline or offline notice: when the alarm must look again. */
  nextDue(): number | null {
    return this.sql
      .exec<{ next: number | null }>(
        `SELECT MIN(at) AS next FROM (
           SELECT MIN(expires_at, deadline) AS at FROM leases
           UNION ALL SELECT notify_at FROM offline_notices)`,
      )
      .one().next;
  }

  /** The runner went offline at `offlineAt`: notify at `notifyAt` unless it comes back first. */
  noteOffline(runnerId: string, offlineAt: number, notifyAt: number): void {
    this.sql.exec(
      'INSERT OR REPLACE INTO offline_notices (runner_id, offline_at, notify_at) VALUES (?, ?, ?)',
      runnerId,
      offlineAt,
      notifyAt,
    );
  }

  /** The runner is back (or was notified): no notice pending for it. */
  clearOffline(runnerId: string): void {
    this.sql.exec('DELETE FROM offline_notices WHERE runner_id = ?', runnerId);
  }

  /** Notices whose time has come, each taken off the list. */
  takeOfflineNotices(now: number): { runnerId: string; offlineAt: number }[] {
    return this.sql
      .exec<{ runner_id: string; offline_at: number }>(
        'DELETE FROM offline_notices WHERE notify_at <= ? RETURNING runner_id, offline_at',
        now,
      )
      .toArray()
      .map((row) => ({ runnerId: row.runner_id, offlineAt: row.offline_at }));
  }

  addLease(lease: Lease): void {
    this.sql.exec(
      `INSERT INTO leases (build_id, project_id, labels, enqueued_at, traceparent, runner_id, runner_name, attempt, expires_at, deadline)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      lease.buildId,
      lease.projectId,
      JSON.stringify(lease.labels),
      lease.enqueuedAt,
      lease.traceparent,
      lease.runnerId,
      lease.runnerName,
      lease.attempt,
      lease.expiresAt,
      lease.deadline,
    );
  }

  /** Extends the runner's lease of the build; false if the runner does not hold it. */
  keepLease(buildId: string, runnerId: string, expiresAt: number): boolean {
    return (
      this.sql.exec(
        'UPDATE leases SET expires_at = ? WHERE build_id = ? AND runner_id = ?',
        expiresAt,
        buildId,
        runnerId,
      ).rowsWritten > 0
    );
  }

  /** Moves the lease's expiry or deadline, so the alarm looks at it again then. */
  postpone(buildId: string, column: 'expires_at' | 'deadline', at: number): void {
    this.sql.exec(`UPDATE leases SET ${column} = ? WHERE build_id = ?`, at, buildId);
  }

  /** The attempt reported its result: its lease and the build's loss history end. */
  completeLease(buildId: string, attempt: number): boolean {
    const ended =
      this.sql.exec('DELETE FROM leases WHERE build_id = ? AND attempt = ?', buildId, attempt)
        .rowsWritten > 0;
    if (ended) this.forgetLosses(buildId);
    return ended;
  }

  /** Ends the build's lease; with `requeue` its job goes back to its old place in the queue. */
  dropLease(buildId: string, requeue: boolean): void {
    const lease = this.lease(buildId);
    this.sql.exec('DELETE FROM leases WHERE build_id = ?', buildId);
    if (requeue && lease) this.insertJob(lease);
  }

  lossesOf(buildId: string): string[] {
    const row = this.sql
      .exec<{ reasons: string }>('SELECT reasons FROM losses WHERE build_id = ?', buildId)
      .toArray()[0];
    return row ? Strings.parse(JSON.parse(row.reasons)) : [];
  }

  setLosses(buildId: string, reasons: string[]): void {
    this.sql.exec(
      'INSERT INTO losses (build_id, reasons) VALUES (?, ?) ON CONFLICT (build_id) DO UPDATE SET reasons = excluded.reasons',
      buildId,
      JSON.stringify(reasons),
    );
  }

  forgetLosses(buildId: string): void {
    this.sql.exec('DELETE FROM losses WHERE build_id = ?', buildId);
  }

  private insertJob(job: QueuedJob): boolean {
    return (
      this.sql.exec(
        'INSERT INTO jobs (build_id, project_id, labels, enqueued_at, traceparent) VALUES (?, ?, ?, ?, ?) ON CONFLICT (build_id) DO NOTHING',
        job.buildId,
        job.projectId,
        JSON.stringify(job.labels),
        job.enqueuedAt,
        job.traceparent,
      ).rowsWritten > 0
    );
  }
}
