import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import {
  encodeLines,
  type LinesEncoding,
  LinesEncodingSchema,
  type PackedLinesFrame,
} from '../core/log-frames';
import {
  type BuildEndStatus,
  BuildEndStatusSchema,
  buildLogKey,
  PRESENCE_INTERVAL_MS,
  type StepStates,
  StepStatesSchema,
  type ViewerMessage,
  type LogLine as WireLine,
} from '../core/log-stream';
import { createMasker } from '../core/secret-masker';
import { answerClose } from './answer-close';
import {
  type BatchNumber,
  BuildSessionStore,
  type LogLine,
  type LogLineInput,
  LogLineInputSchema,
  toWire,
} from './build-session-store';

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
  batch?: BatchNumber;
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

const VIEWER_TAG = 'viewer';
const READ_MAX = 5000;
// A frame stays under the platform's 1 MiB WebSocket message limit: at most 3 bytes per JSON
// character, and a single line is at most 64 KiB of text (the runner protocol's limit).
const FRAME_MAX_LINES = 500;
const FRAME_MAX_CHARS = 256 * 1024;

/**
 * Lines cut into frames of bounded size, so a long replay or a large batch never makes one huge
 * frame (sized as line objects: packed, the same lines take less).
 */
function* lineFrames(lines: Iterable<LogLine>): Generator<WireLine[]> {
  let frame: WireLine[] = [];
  let chars = 0;
  for (const line of lines) {
    const wire = toWire(line);
    const size = JSON.stringify(wire).length;
    if (frame.length >= FRAME_MAX_LINES || (frame.length > 0 && chars + size > FRAME_MAX_CHARS)) {
      yield frame;
      frame = [];
      chars = 0;
    }
    frame.push(wire);
    chars += size;
  }
  if (frame.length > 0) yield frame;
}

/** Each viewer socket is tagged with how it wants its lines. */
const encodingTag = (encoding: LinesEncoding) => `lines:${encoding}`;

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
  private readonly store: BuildSessionStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new BuildSessionStore(ctx.storage);
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  async append(lines: LogLineInput[], options: AppendOptions = {}): Promise<AppendResult> {
    const valid = z.array(LogLineInputSchema).parse(lines);
    const batch = options.batch && BatchSchema.parse(options.batch);
    if (this.store.status()) return { lastSeq: this.store.lastSeq(), finished: true };
    const applied = batch && this.store.appliedBatch(batch);
    if (applied !== undefined) return { lastSeq: applied, finished: false, duplicate: true };
    const mask = createMasker(options.secrets ?? []);
    const stored = this.store.append(
      valid.map((line) => ({ ...line, text: mask(line.text) })),
      batch,
    );
    for (const frame of lineFrames(stored)) this.broadcastLines(frame);
    return { lastSeq: this.store.lastSeq(), finished: false };
  }

  async read(afterSeq = 0, limit = 1000): Promise<LogLine[]> {
    return this.store.rows(afterSeq, Math.min(Math.max(limit, 1), READ_MAX));
  }

  /** A page for the HTTP API: `hasMore` without a second round trip. */
  async page(afterSeq: number, limit: number): Promise<LogPage> {
    const size = Math.min(Math.max(limit, 1), READ_MAX);
    const rows = this.store.rows(afterSeq, size + 1);
    const hasMore = rows.length > size;
    return {
      lines: (hasMore ? rows.slice(0, size) : rows).map(toWire),
      hasMore,
      status: this.store.status(),
    };
  }

  /** The latest step states (a `StepReport`'s `steps`), shown to viewers as they change. */
  async setSteps(steps: StepStates, options: MaskOptions = {}): Promise<{ finished: boolean }> {
    const valid = StepStatesSchema.parse(steps);
    if (this.store.status()) return { finished: true };
    const mask = createMasker(options.secrets ?? []);
    const masked = valid.map((step) => ({
      ...step,
      name: mask(step.name),
      command: mask(step.command),
    }));
    this.store.setSteps(masked);
    this.broadcast({ type: 'steps', steps: masked });
    return { finished: false };
  }

  async steps(): Promise<StepStates | null> {
    return this.store.steps();
  }

  /**
   * Ends the log: no line is accepted afterwards, open steps are settled, viewers get `steps` and
   * `end` and are closed with 1000, and the whole log is written to R2 as NDJSON. Idempotent: a
   * repeated call (e.g. after an R2 failure) archives again and keeps the first status.
   */
  async finish(status: BuildEndStatus): Promise<FinishResult> {
    const requested = BuildEndStatusSchema.parse(status);
    const logKey = buildLogKey(this.buildId());
    if (!this.store.status()) {
      const current = this.store.steps();
      const steps = current && settleSteps(current, requested, new Date().toISOString());
      this.store.end(requested, steps);
      if (steps) this.broadcast({ type: 'steps', steps });
      for (const ws of this.viewers()) this.sendEnd(ws);
    }
    const final = this.store.status()!;
    if (!this.store.archived()) {
      // The log is frozen from here on, so the snapshot is complete even if appends arrive
      // while the upload is in flight (they are refused).
      await this.env.LOGS.put(logKey, this.store.ndjson(), {
        httpMetadata: { contentType: 'application/x-ndjson; charset=utf-8' },
      });
      this.store.markArchived(new Date());
    }
    return { status: final, lastSeq: this.store.lastSeq(), logKey, steps: this.store.steps() };
  }

  /**
   * The viewer socket. The Worker route has authenticated and authorized the viewer; `after`
   * (a sequence number, default 0) says where the replay starts.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('Expected a WebSocket upgrade', { status: 426 });
    }
    const query = new URL(request.url).searchParams;
    const after = Number(query.get('after') ?? 0);
    if (!Number.isSafeInteger(after) || after < 0) {
      return new Response('after must be a non-negative integer', { status: 400 });
    }
    const encoding = LinesEncodingSchema.safeParse(query.get('lines') ?? 'objects');
    if (!encoding.success) return new Response('lines must be objects or packed', { status: 400 });
    const { 0: client, 1: server } = new WebSocketPair();
    // From here to `caught_up` nothing awaits: see the class comment.
    this.ctx.acceptWebSocket(server, [VIEWER_TAG, encodingTag(encoding.data)]);
    const steps = this.store.steps();
    if (steps) this.send(server, { type: 'steps', steps });
    for (const frame of lineFrames(this.store.lines(after))) {
      this.send(server, encodeLines(frame, encoding.data));
    }
    this.send(server, { type: 'caught_up', last_seq: this.store.lastSeq() });
    if (this.store.status()) this.sendEnd(server);
    else {
      this.send(server, this.presence());
      // The replay is sent: awaiting from here on cannot open a gap.
      await this.schedulePresence();
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  // Viewers only listen (`ping` is answered by the runtime).
  override async webSocketMessage(ws: WebSocket) {
    ws.close(1003, 'Viewers do not send messages');
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string) {
    answerClose(ws, code, reason);
    await this.schedulePresence();
  }

  override async webSocketError() {
    await this.schedulePresence();
  }

  /** The presence update: every viewer learns the count as it is now. */
  override async alarm() {
    if (!this.store.status()) this.broadcast(this.presence());
  }

  private buildId(): string {
    const name = this.ctx.id.name;
    if (!name?.startsWith('build:')) throw new Error('BuildSession must be named build:<buildId>');
    return name.slice('build:'.length);
  }

  private viewers(tag = VIEWER_TAG): WebSocket[] {
    return this.ctx.getWebSockets(tag).filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  private send(ws: WebSocket, message: ViewerMessage | PackedLinesFrame) {
    ws.send(JSON.stringify(message));
  }

  /** Lines to every viewer in its encoding, each encoding written once. */
  private broadcastLines(lines: WireLine[]) {
    for (const encoding of LinesEncodingSchema.options) {
      const viewers = this.viewers(encodingTag(encoding));
      if (viewers.length > 0) this.sendToAll(viewers, JSON.stringify(encodeLines(lines, encoding)));
    }
  }

  private broadcast(message: ViewerMessage) {
    this.sendToAll(this.viewers(), JSON.stringify(message));
  }

  private sendToAll(viewers: WebSocket[], frame: string) {
    for (const ws of viewers) {
      try {
        ws.send(frame);
      } catch {
        // A socket this object closed can still read as open until its close is handled; one
        // such socket must not keep the frame from the viewers after it.
      }
    }
  }

  private presence(): ViewerMessage {
    return { type: 'presence', watching: this.viewers().length };
  }

  /** One presence update within the interval, however many viewers come and go meanwhile. */
  private async schedulePresence() {
    if (this.store.status()) return;
    if ((await this.ctx.storage.getAlarm()) !== null) return;
    await this.ctx.storage.setAlarm(Date.now() + PRESENCE_INTERVAL_MS);
  }

  private sendEnd(ws: WebSocket) {
    this.send(ws, { type: 'end', status: this.store.status()! });
    ws.close(1000, 'Build finished');
  }
}
