import type { LogBatch } from '../../core/runner-protocol';

export type LogLine = LogBatch['lines'][number];

export interface ShipperOptions {
  /**
   * The least time between the starts of two requests: a line after a quiet spell leaves at once
   * (with the lines printed in the same turn), and lines close behind it share the next request.
   */
  intervalMs: number;
  maxLines: number;
  maxBytes: number;
}

/**
 * 50 ms: a build printing without pause sends up to 20 requests a second; one that prints a line
 * now and then, one per line, at once (docs/benchmarks.md, (b)).
 */
export const SHIPPER_DEFAULTS: ShipperOptions = {
  intervalMs: 50,
  maxLines: 500,
  maxBytes: 512 * 1024,
};

/**
 * Sends log lines in batches, in the order they were pushed: one request in flight at a time,
 * lines arriving meanwhile wait for the next batch. Each batch carries its number (`batch_seq`,
 * from 1, one shipper per attempt) so the platform can tell a retried batch from a new one.
 * `send` retries on its own, with the same batch; when it finally fails the shipper stops, since
 * the platform would see a gap in the log otherwise.
 */
export class LogShipper {
  private queue: LogLine[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | undefined;
  private failure: unknown;
  private batchSeq = 0;
  private lastStartAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly send: (batch: LogBatch) => Promise<void>,
    private readonly onFailure: (error: unknown) => void,
    private readonly options: ShipperOptions = SHIPPER_DEFAULTS,
  ) {}

  push(line: LogLine): void {
    if (this.failure !== undefined) return;
    this.queue.push(line);
    if (this.queue.length >= this.options.maxLines) this.start();
    else this.timer ??= setTimeout(() => this.start(), this.untilNextStart());
  }

  /** Resolves once every line pushed so far is delivered; rejects if delivery failed. */
  async flush(): Promise<void> {
    this.start();
    while (this.inFlight) await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }

  /** 0 after a quiet spell: the timer still lets the rest of the output read in this turn join. */
  private untilNextStart(): number {
    return Math.max(0, this.lastStartAt + this.options.intervalMs - performance.now());
  }

  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = this.drain().finally(() => {
      this.inFlight = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.failure === undefined) {
      const lines = this.take();
      this.lastStartAt = performance.now();
      try {
        await this.send({ batch_seq: ++this.batchSeq, lines });
      } catch (error) {
        this.failure = error;
        this.queue = [];
        this.onFailure(error);
      }
    }
  }

  private take(): LogLine[] {
    let bytes = 0;
    let count = 0;
    for (const line of this.queue) {
      if (count === this.options.maxLines) break;
      bytes += line.text.length + 64;
      if (count > 0 && bytes > this.options.maxBytes) break;
      count++;
    }
    return this.queue.splice(0, count);
  }
}
