import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { Histogram } from '../stats';

/** A probe line as the line source prints it: its number and when it was printed. */
export const probeLine = (index: number, at: number) => `L ${index} ${at.toFixed(3)}`;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * What N viewers saw of one stream of `lines` probe lines: the delay of every line at every
 * viewer, the lines each got, and the presence frames they were sent. Both servers send frames of
 * the platform's schema (`core/log-stream.ts`, `core/log-frames.ts`): `lines_packed` (or
 * `lines`), `presence`, `end`. Its bookkeeping is a histogram and one bit per line and viewer, so
 * that a thousand viewers' accounting costs little beside receiving the frames.
 */
export class ViewerCrowd {
  readonly latencies = new Histogram();
  presenceFrames = 0;
  private readonly received: Uint8Array[] = [];
  private readonly closed: Promise<void>[] = [];

  constructor(private readonly lines: number) {}

  /** Opens one viewer; resolves once it is open. */
  async join(url: string, protocols: string[] = []): Promise<void> {
    const seen = new Uint8Array(this.lines + 1);
    this.received.push(seen);
    const socket = new WebSocket(url, protocols, { perMessageDeflate: false });
    socket.on('message', (data) => {
      const now = wallNow();
      const frame = JSON.parse(String(data)) as {
        type: string;
        lines?: { text: string }[];
        text?: string[];
      };
      if (frame.type === 'presence') this.presenceFrames++;
      // The lines as the dashboard and the CLI ask for them (`lines_packed`), or as objects.
      const texts =
        frame.type === 'lines_packed'
          ? frame.text!
          : frame.type === 'lines'
            ? frame.lines!.map((line) => line.text)
            : [];
      for (const text of texts) {
        // `L <index> <printed at>`: anything else (the runner's own lines) is not a probe.
        if (!text.startsWith('L ')) continue;
        const space = text.indexOf(' ', 2);
        const index = Number(text.slice(2, space));
        if (!(index > 0 && index <= this.lines)) continue;
        seen[index] = 1;
        this.latencies.add(now - Number(text.slice(space + 1)));
      }
    });
    this.closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  }

  /** Resolves once every viewer's socket has closed (the stream ended), or after `ms`. */
  async ended(ms: number): Promise<void> {
    await Promise.race([
      Promise.all(this.closed),
      new Promise((resolve) => setTimeout(resolve, ms)),
    ]);
  }

  /** Probe lines some viewer never got. */
  lost(): number {
    let lost = 0;
    for (const seen of this.received) for (let i = 1; i <= this.lines; i++) lost += 1 - seen[i]!;
    return lost;
  }
}

/** What a crowd reports once its stream ended. */
export interface CrowdResult {
  p50: number;
  p99: number;
  lost: number;
}

export type CrowdRequest =
  | { op: 'join'; url: string; protocols: string[] }
  | { op: 'presence' }
  | { op: 'ended'; ms: number };
export type CrowdAnswer = { id: number; error?: string; value?: unknown };

/**
 * A `ViewerCrowd` in a process of its own (`viewer-crowd.ts`). The viewers' JSON parsing takes a
 * whole CPU at a thousand viewers; in the bench's own process it would also slow the counting
 * proxy the runner ships its log through, and delay the very lines being timed.
 */
export class CrowdProcess {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, (answer: CrowdAnswer) => void>();
  private nextId = 0;

  constructor(lines: number) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'viewer-crowd.ts'), String(lines)],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    this.child.on('message', (answer: CrowdAnswer) => {
      this.pending.get(answer.id)?.(answer);
      this.pending.delete(answer.id);
    });
  }

  join(url: string, protocols: string[] = []): Promise<void> {
    return this.ask({ op: 'join', url, protocols }).then(() => undefined);
  }

  presenceFrames(): Promise<number> {
    return this.ask({ op: 'presence' }) as Promise<number>;
  }

  /** Waits for the stream to end (or `ms`), then the figures. */
  ended(ms: number): Promise<CrowdResult> {
    return this.ask({ op: 'ended', ms }) as Promise<CrowdResult>;
  }

  close(): void {
    this.child.kill();
  }

  private ask(request: CrowdRequest): Promise<unknown> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (answer) =>
        answer.error ? reject(new Error(answer.error)) : resolve(answer.value),
      );
      this.child.send({ ...request, id });
    });
  }
}

/** Runs `task` over `items`, at most `limit` at a time. */
export async function inBatches<T>(items: T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!);
  });
  await Promise.all(workers);
}
