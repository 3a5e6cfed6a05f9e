import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import {
  type BuildEndStatus,
  BuildEndStatusSchema,
  buildLogKey,
  type StepStates,
  StepStatesSchema,
  type ViewerMessage,
  type LogLine as WireLine,
} from '../core/log-stream';
import { createMasker } from '../core/secret-masker';

export const LogLineInputSchema = z.object({
  stream: z.enum(['stdout', 'stderr', 'system']),
  text: z.string(),
  stepId: z.string().optional(),
  ts: z.number().int().nonnegative(),
});
export type LogLineInput = z.infer<typeof LogLineInputSchema>;
export type LogLine = LogLineInput & { seq: number };

const BatchSchema = z.object({
  attempt: z.number().int().positive(),
  seq: z.number().int().positive(),
});

export interface MaskOptions {
  /**
   * The project's secret values, masked (in every encoding `createMasker` knows) before anything
   * is stored or sent. Used for this call only: the session never stores them.
   */
  secrets?: readonly string[];
}

export interface AppendOptions extends MaskOptions {
  /**
   * The runner's numbering of its log batches within one attempt. A batch whose number this
   * attempt has already applied (a retry whose first answer was lost) is not appended again.
   */
  batch?: { attempt: number; seq: number };
}

export interface AppendResult {
  /** The log's last sequence number after the batch (for a duplicate: as it was answered then). */
  lastSeq: number;
  /** True when the build had already finished: the lines were refused, the log is final. */
  finished: boolean;
  /** True when the batch had been applied before: nothing was appended. */
  duplicate?: boolean;
}

export interface FinishResult {
  status: BuildEndStatus;
  lastSeq: number;
  logKey: string;
  steps: StepStates | null;
}

export interface LogPage {
  lines: WireLine[];
  hasMore: boolean;
  status: BuildEndStatus | null;
}

interface LogRow extends Record<string, SqlStorageValue> {
  seq: number;
  stream: string;
  text: string;
  step_id: string | null;
  ts: number;
}

const VIEWER_TAG = 'viewer';
const READ_MAX = 5000;
// A frame stays under the platform's 1 MiB WebSocket message limit: at most 3 bytes per JSON
// character, and a single line is at most 64 KiB of text (the runner protocol's limit).
const FRAME_MAX_LINES = 500;
const FRAME_MAX_CHARS = 256 * 1024;

function toLine(row: LogRow): LogLine {
  return {
    seq: row.seq,
    stream: LogLineInputSchema.shape.stream.parse(row.stream),
    text: row.text,
    ts: row.ts,
    ...(row.step_id ? { stepId: row.step_id } : {}),
  };
}

function toWire(line: LogLine): WireLine {
  return {
    seq: line.seq,
    stream: line.stream,
    text: line.text,
    ts: line.ts,
    ...(line.stepId ? { step_id: line.stepId } : {}),
  };
}

/** `lines` frames of bounded size, so a long replay or a large batch never makes one huge frame. */
function* lineFrames(lines: Iterable<LogLine>): Generator<ViewerMessage> {
  let frame: WireLine[] = [];
  let chars = 0;
  for (const line of lines) {
    const wire = toWire(line);
    const size = JSON.stringify(wire).length;
    if (frame.length >= FRAME_MAX_LINES || (frame.length > 0 && chars + size > FRAME_MAX_CHARS)) {
      yield { type: 'lines', lines: frame };
      frame = [];
      chars = 0;
    }
    frame.push(wire);
    chars += size;
  }
  if (frame.length > 0) yield { type: 'lines', lines: frame };
}

/** Steps still open when the build ends did not complete: they must not show as running forever. */
function settleSteps(steps: StepStates, status: BuildEndStatus, at: string): StepStates {
  return steps.map((step) => {
    if (step.status === 'pending') return { ...step, status: 'skipped' };
    if (step.status !== 'running') return step;
    return {
      ...step,
      status: status === 'canceled' ? 'canceled' : 'failed',
      finished_at: step.finished_at ?? at,
    };
  });
}

/**
 * One per build (named `build:<buildId>`): step states and the append-only, sequence-numbered
 * log in SQLite, and the viewers' hibernatable WebSockets.
 *
 * A viewer never sees a gap or a duplicate between its replay and the live lines because the
 * upgrade handler does no I/O that yields: it accepts the socket, reads the replay from SQLite
 * (synchronous) and sends it in one turn of the event loop. An `append` runs either wholly before
 * that turn (its lines are in the replay) or wholly after (the socket is registered, so it gets
 * them live), never in between.
 */
export class BuildSession extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS log_lines (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      stream TEXT NOT NULL,
      text TEXT NOT NULL,
      step_id TEXT,
      ts INTEGER NOT NULL
    )`);
    ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS session_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
    );
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS log_batches (
      attempt INTEGER NOT NULL,
      batch_seq INTEGER NOT NULL,
      last_seq INTEGER NOT NULL,
      PRIMARY KEY (attempt, batch_seq)
    )`);
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  async append(lines: LogLineInput[], options: AppendOptions = {}): Promise<AppendResult> {
    const valid = z.array(LogLineInputSchema).parse(lines);
    const batch = options.batch && BatchSchema.parse(options.batch);
    if (this.status()) return { lastSeq: this.lastSeq(), finished: true };
    if (batch) {
      const [applied] = this.ctx.storage.sql
        .exec<{ last_seq: number }>(
          'SELECT last_seq FROM log_batches WHERE attempt = ? AND batch_seq = ?',
          batch.attempt,
          batch.seq,
        )
        .toArray();
      if (applied) return { lastSeq: applied.last_seq, finished: false, duplicate: true };
    }
    const mask = createMasker(options.secrets ?? []);
    const stored: LogLine[] = [];
    // The lines and their batch's number commit together: a retry sees both or neither.
    this.ctx.storage.transactionSync(() => {
      for (const line of valid) {
        const text = mask(line.text);
        const { seq } = this.ctx.storage.sql
          .exec<{ seq: number }>(
            'INSERT INTO log_lines (stream, text, step_id, ts) VALUES (?, ?, ?, ?) RETURNING seq',
            line.stream,
            text,
            line.stepId ?? null,
            line.ts,
          )
          .one();
        stored.push({ ...line, text, seq });
      }
      if (batch) {
        this.ctx.storage.sql.exec(
          'INSERT INTO log_batches (attempt, batch_seq, last_seq) VALUES (?, ?, ?)',
          batch.attempt,
          batch.seq,
          this.lastSeq(),
        );
      }
    });
    for (const frame of lineFrames(stored)) this.broadcast(frame);
    return { lastSeq: this.lastSeq(), finished: false };
  }

  async read(afterSeq = 0, limit = 1000): Promise<LogLine[]> {
    return this.rows(afterSeq, Math.min(Math.max(limit, 1), READ_MAX));
  }

  /** A page for the HTTP API: `hasMore` without a second round trip. */
  async page(afterSeq: number, limit: number): Promise<LogPage> {
    const size = Math.min(Math.max(limit, 1), READ_MAX);
    const rows = this.rows(afterSeq, size + 1);
    const hasMore = rows.length > size;
    return {
      lines: (hasMore ? rows.slice(0, size) : rows).map(toWire),
      hasMore,
      status: this.status(),
    };
  }

  /** The latest step states (a `StepReport`'s `steps`), shown to viewers as they change. */
  async setSteps(steps: StepStates, options: MaskOptions = {}): Promise<{ finished: boolean }> {
    const valid = StepStatesSchema.parse(steps);
    if (this.status()) return { finished: true };
    const mask = createMasker(options.secrets ?? []);
    const masked = valid.map((step) => ({
      ...step,
      name: mask(step.name),
      command: mask(step.command),
    }));
    this.setState('steps', JSON.stringify(masked));
    this.broadcast({ type: 'steps', steps: masked });
    return { finished: false };
  }

  async steps(): Promise<StepStates | null> {
    return this.storedSteps();
  }

  /**
   * Ends the log: no line is accepted afterwards, open steps are settled, viewers get `steps` and
   * `end` and are closed with 1000, and the whole log is written to R2 as NDJSON. Idempotent: a
   * repeated call (e.g. after an R2 failure) archives again and keeps the first status.
   */
  async finish(status: BuildEndStatus): Promise<FinishResult> {
    const requested = BuildEndStatusSchema.parse(status);
    const logKey = buildLogKey(this.buildId());
    if (!this.status()) {
      const current = this.storedSteps();
      const steps = current && settleSteps(current, requested, new Date().toISOString());
      this.ctx.storage.transactionSync(() => {
        this.setState('status', requested);
        if (steps) this.setState('steps', JSON.stringify(steps));
      });
      if (steps) this.broadcast({ type: 'steps', steps });
      for (const ws of this.viewers()) this.sendEnd(ws);
    }
    const final = this.status()!;
    if (!this.getState('archived_at')) {
      // The log is frozen from here on, so the snapshot is complete even if appends arrive
      // while the upload is in flight (they are refused).
      await this.env.LOGS.put(logKey, this.ndjson(), {
        httpMetadata: { contentType: 'application/x-ndjson; charset=utf-8' },
      });
      this.setState('archived_at', new Date().toISOString());
    }
    return { status: final, lastSeq: this.lastSeq(), logKey, steps: this.storedSteps() };
  }

  /**
   * The viewer socket. The Worker route has authenticated and authorized the viewer; `after`
   * (a sequence number, default 0) says where the replay starts.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('Expected a WebSocket upgrade', { status: 426 });
    }
    const after = Number(new URL(request.url).searchParams.get('after') ?? 0);
    if (!Number.isSafeInteger(after) || after < 0) {
      return new Response('after must be a non-negative integer', { status: 400 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    // From here to the return nothing awaits: see the class comment.
    this.ctx.acceptWebSocket(server, [VIEWER_TAG]);
    const steps = this.storedSteps();
    if (steps) this.send(server, { type: 'steps', steps });
    for (const frame of lineFrames(this.iterateRows(after))) this.send(server, frame);
    this.send(server, { type: 'caught_up', last_seq: this.lastSeq() });
    if (this.status()) this.sendEnd(server);
    else this.broadcastPresence();
    return new Response(null, { status: 101, webSocket: client });
  }

  // Viewers only listen (`ping` is answered by the runtime).
  override async webSocketMessage(ws: WebSocket) {
    ws.close(1003, 'Viewers do not send messages');
  }

  override async webSocketClose() {
    this.broadcastPresence();
  }

  override async webSocketError() {
    this.broadcastPresence();
  }

  private buildId(): string {
    const name = this.ctx.id.name;
    if (!name?.startsWith('build:')) throw new Error('BuildSession must be named build:<buildId>');
    return name.slice('build:'.length);
  }

  private rows(afterSeq: number, limit: number): LogLine[] {
    return this.ctx.storage.sql
      .exec<LogRow>(
        'SELECT seq, stream, text, step_id, ts FROM log_lines WHERE seq > ? ORDER BY seq LIMIT ?',
        afterSeq,
        limit,
      )
      .toArray()
      .map(toLine);
  }

  private *iterateRows(afterSeq: number): Generator<LogLine> {
    const cursor = this.ctx.storage.sql.exec<LogRow>(
      'SELECT seq, stream, text, step_id, ts FROM log_lines WHERE seq > ? ORDER BY seq',
      afterSeq,
    );
    for (const row of cursor) yield toLine(row);
  }

  private ndjson(): Blob {
    const parts: string[] = [];
    for (const line of this.iterateRows(0)) parts.push(`${JSON.stringify(toWire(line))}\n`);
    return new Blob(parts);
  }

  private lastSeq(): number {
    return this.ctx.storage.sql
      .exec<{ seq: number }>('SELECT COALESCE(MAX(seq), 0) AS seq FROM log_lines')
      .one().seq;
  }

  private getState(key: string): string | null {
    const [row] = this.ctx.storage.sql
      .exec<{ value: string }>('SELECT value FROM session_state WHERE key = ?', key)
      .toArray();
    return row?.value ?? null;
  }

  private setState(key: string, value: string) {
    this.ctx.storage.sql.exec(
      'INSERT INTO session_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      value,
    );
  }

  private status(): BuildEndStatus | null {
    const value = this.getState('status');
    return value === null ? null : BuildEndStatusSchema.parse(value);
  }

  private storedSteps(): StepStates | null {
    const value = this.getState('steps');
    return value === null ? null : StepStatesSchema.parse(JSON.parse(value));
  }

  private viewers(): WebSocket[] {
    return this.ctx.getWebSockets(VIEWER_TAG).filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  private send(ws: WebSocket, message: ViewerMessage) {
    ws.send(JSON.stringify(message));
  }

  private broadcast(message: ViewerMessage) {
    const frame = JSON.stringify(message);
    for (const ws of this.viewers()) ws.send(frame);
  }

  private broadcastPresence() {
    this.broadcast({ type: 'presence', watching: this.viewers().length });
  }

  private sendEnd(ws: WebSocket) {
    this.send(ws, { type: 'end', status: this.status()! });
    ws.close(1000, 'Build finished');
  }
}
