import { z } from 'zod';
import {
  type BuildEndStatus,
  BuildEndStatusSchema,
  type StepStates,
  StepStatesSchema,
  type LogLine as WireLine,
} from '../core/log-stream';

export const LogLineInputSchema = z.object({
  stream: z.enum(['stdout', 'stderr', 'system']),
  text: z.string(),
  stepId: z.string().optional(),
  ts: z.number().int().nonnegative(),
});
export type LogLineInput = z.infer<typeof LogLineInputSchema>;
export type LogLine = LogLineInput & { seq: number };

/** The runner's number for a batch of lines within one attempt. */
export interface BatchNumber {
  attempt: number;
  seq: number;
}

interface LogRow extends Record<string, SqlStorageValue> {
  seq: number;
  stream: string;
  text: string;
  step_id: string | null;
  ts: number;
}

function toLine(row: LogRow): LogLine {
  return {
    seq: row.seq,
    stream: LogLineInputSchema.shape.stream.parse(row.stream),
    text: row.text,
    ts: row.ts,
    ...(row.step_id ? { stepId: row.step_id } : {}),
  };
}

/** A line as viewers, the HTTP API and the archive show it. */
export function toWire(line: LogLine): WireLine {
  return {
    seq: line.seq,
    stream: line.stream,
    text: line.text,
    ts: line.ts,
    ...(line.stepId ? { step_id: line.stepId } : {}),
  };
}

/**
 * A BuildSession's SQLite state: the append-only log numbered by `seq`, the runner's batches
 * already applied, and the session's state (steps, end status, when the log was archived).
 */
export class BuildSessionStore {
  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS log_lines (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      stream TEXT NOT NULL,
      text TEXT NOT NULL,
      step_id TEXT,
      ts INTEGER NOT NULL
    )`);
    this.sql.exec(
      'CREATE TABLE IF NOT EXISTS session_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
    );
    this.sql.exec(`CREATE TABLE IF NOT EXISTS log_batches (
      attempt INTEGER NOT NULL,
      batch_seq INTEGER NOT NULL,
      last_seq INTEGER NOT NULL,
      PRIMARY KEY (attempt, batch_seq)
    )`);
  }

  /** The log's last sequence number when the batch was applied; undefined if it was not. */
  appliedBatch(batch: BatchNumber): number | undefined {
    const [applied] = this.sql
      .exec<{ last_seq: number }>(
        'SELECT last_seq FROM log_batches WHERE attempt = ? AND batch_seq = ?',
        batch.attempt,
        batch.seq,
      )
      .toArray();
    return applied?.last_seq;
  }

  /** Appends the lines and records their batch in one transaction: a retry sees both or neither. */
  append(lines: readonly LogLineInput[], batch?: BatchNumber): LogLine[] {
    const stored: LogLine[] = [];
    this.storage.transactionSync(() => {
      for (const line of lines) {
        const { seq } = this.sql
          .exec<{ seq: number }>(
            'INSERT INTO log_lines (stream, text, step_id, ts) VALUES (?, ?, ?, ?) RETURNING seq',
            line.stream,
            line.text,
            line.stepId ?? null,
            line.ts,
          )
          .one();
        stored.push({ ...line, seq });
      }
      if (batch) {
        this.sql.exec(
          'INSERT INTO log_batches (attempt, batch_seq, last_seq) VALUES (?, ?, ?)',
          batch.attempt,
          batch.seq,
          this.lastSeq(),
        );
      }
    });
    return stored;
  }

  rows(afterSeq: number, limit: number): LogLine[] {
    return this.sql
      .exec<LogRow>(
        'SELECT seq, stream, text, step_id, ts FROM log_lines WHERE seq > ? ORDER BY seq LIMIT ?',
        afterSeq,
        limit,
      )
      .toArray()
      .map(toLine);
  }

  /** Every line after `afterSeq`, read as it is consumed. */
  *lines(afterSeq: number): Generator<LogLine> {
    const cursor = this.sql.exec<LogRow>(
      'SELECT seq, stream, text, step_id, ts FROM log_lines WHERE seq > ? ORDER BY seq',
      afterSeq,
    );
    for (const row of cursor) yield toLine(row);
  }

  /** The whole log as the archive keeps it: one wire line of JSON per line. */
  ndjson(): Blob {
    const parts: string[] = [];
    for (const line of this.lines(0)) parts.push(`${JSON.stringify(toWire(line))}\n`);
    return new Blob(parts);
  }

  lastSeq(): number {
    return this.sql
      .exec<{ seq: number }>('SELECT COALESCE(MAX(seq), 0) AS seq FROM log_lines')
      .one().seq;
  }

  /** How the build ended; null while it runs. */
  status(): BuildEndStatus | null {
    const value = this.getState('status');
    return value === null ? null : BuildEndStatusSchema.parse(value);
  }

  steps(): StepStates | null {
    const value = this.getState('steps');
    return value === null ? null : StepStatesSchema.parse(JSON.parse(value));
  }

  setSteps(steps: StepStates): void {
    this.setState('steps', JSON.stringify(steps));
  }

  /** The build's end status, and its final steps if it has any, in one transaction. */
  end(status: BuildEndStatus, steps: StepStates | null): void {
    this.storage.transactionSync(() => {
      this.setState('status', status);
      if (steps) this.setSteps(steps);
    });
  }

  archived(): boolean {
    return this.getState('archived_at') !== null;
  }

  markArchived(at: Date): void {
    this.setState('archived_at', at.toISOString());
  }

  private getState(key: string): string | null {
    const [row] = this.sql
      .exec<{ value: string }>('SELECT value FROM session_state WHERE key = ?', key)
      .toArray();
    return row?.value ?? null;
  }

  private setState(key: string, value: string) {
    this.sql.exec(
      'INSERT INTO session_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      value,
    );
  }
}
