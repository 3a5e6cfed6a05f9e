import { WebSocket } from 'ws';

/** A probe line as the line source prints it: its number and when it was printed. */
export const probeLine = (index: number, at: number) => `L ${index} ${at.toFixed(3)}`;
const PROBE = /^L (\d+) ([\d.]+)$/;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * What N viewers saw of one stream of probe lines: the delay of every line at every viewer, and
 * the presence frames they were sent. Both servers send frames of the platform's schema
 * (`core/log-stream.ts`): `lines` with `{ seq, text }`, `presence`, `end`.
 */
export class ViewerCrowd {
  readonly latencies: number[] = [];
  presenceFrames = 0;
  private readonly received: Set<number>[] = [];
  private readonly closed: Promise<void>[] = [];

  /** Opens one viewer; resolves once it is open. */
  async join(url: string, protocols: string[] = []): Promise<void> {
    const seen = new Set<number>();
    this.received.push(seen);
    const socket = new WebSocket(url, protocols, { perMessageDeflate: false });
    socket.on('message', (data) => {
      const now = wallNow();
      const frame = JSON.parse(String(data)) as {
        type: string;
        lines?: { text: string }[];
      };
      if (frame.type === 'presence') this.presenceFrames++;
      if (frame.type !== 'lines') return;
      for (const line of frame.lines!) {
        const probe = PROBE.exec(line.text);
        if (!probe) continue;
        seen.add(Number(probe[1]));
        this.latencies.push(now - Number(probe[2]));
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

  /** Probe lines some viewer never got, of `lines` sent to each. */
  lost(lines: number): number {
    return this.received.reduce((sum, seen) => sum + (lines - seen.size), 0);
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
