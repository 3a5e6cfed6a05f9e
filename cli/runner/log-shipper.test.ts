import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import type { LogBatch } from '../../core/runner-protocol';
import { JobApi } from './job-api';
import { type LogLine, LogShipper } from './log-shipper';

const line = (n: number): LogLine => ({ stream: 'stdout', text: `line ${n}`, ts: n });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('LogShipper', () => {
  it('batches the lines pushed in one turn into one request', async () => {
    const batches: LogBatch[] = [];
    const shipper = new LogShipper(
      async (batch) => {
        batches.push(batch);
      },
      () => {},
      { intervalMs: 50, maxLines: 100, maxBytes: 1 << 20 },
    );
    for (let n = 0; n < 10; n++) shipper.push(line(n));
    expect(batches).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.lines.map((l) => l.ts)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('sends a line after a quiet spell at once, and lines close behind it with the next request', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const sent: number[][] = [];
      const shipper = new LogShipper(
        async ({ lines }) => {
          sent.push(lines.map((l) => l.ts));
        },
        () => {},
        { intervalMs: 200, maxLines: 100, maxBytes: 1 << 20 },
      );
      // What the build printed in one turn travels together, right after it.
      shipper.push(line(1));
      shipper.push(line(2));
      await vi.advanceTimersByTimeAsync(0);
      expect(sent).toEqual([[1, 2]]);
      // 10 ms later: it waits until 200 ms after the first request started, then goes.
      await vi.advanceTimersByTimeAsync(10);
      shipper.push(line(3));
      await vi.advanceTimersByTimeAsync(150);
      shipper.push(line(4));
      await vi.advanceTimersByTimeAsync(39);
      expect(sent).toEqual([[1, 2]]);
      await vi.advanceTimersByTimeAsync(1);
      expect(sent).toEqual([
        [1, 2],
        [3, 4],
      ]);
      // Quiet for longer than the interval: the next line leaves at once again.
      await vi.advanceTimersByTimeAsync(500);
      shipper.push(line(5));
      await vi.advanceTimersByTimeAsync(0);
      expect(sent).toEqual([[1, 2], [3, 4], [5]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps one request in flight and the order across batches, split by count and size', async () => {
    const sent: LogLine[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const gates: ReturnType<typeof deferred>[] = [];
    const shipper = new LogShipper(
      async ({ lines }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const gate = deferred();
        gates.push(gate);
        await gate.promise;
        sent.push(lines);
        inFlight--;
      },
      () => {},
      { intervalMs: 10_000, maxLines: 3, maxBytes: 1 << 20 },
    );
    for (let n = 0; n < 3; n++) shipper.push(line(n));
    // The first batch is full and goes at once; the next lines queue behind it.
    expect(gates).toHaveLength(1);
    for (let n = 3; n < 8; n++) shipper.push(line(n));
    expect(gates).toHaveLength(1);
    const flushed = shipper.flush();
    while (sent.length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      gates.at(-1)!.resolve();
    }
    await flushed;
    expect(maxInFlight).toBe(1);
    expect(sent.map((lines) => lines.map((l) => l.ts))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
    ]);

    const small = new LogShipper(
      async ({ lines }) => {
        sent.push(lines);
      },
      () => {},
      { intervalMs: 10, maxLines: 100, maxBytes: 200 },
    );
    sent.length = 0;
    for (let n = 0; n < 4; n++) small.push({ ...line(n), text: 'x'.repeat(80) });
    await small.flush();
    expect(sent.map((lines) => lines.length)).toEqual([1, 1, 1, 1]);
  });

  it('stops after a failed delivery and reports it once', async () => {
    const failures: unknown[] = [];
    let calls = 0;
    const shipper = new LogShipper(
      async () => {
        calls++;
        throw new Error('refused');
      },
      (error) => failures.push(error),
      { intervalMs: 1, maxLines: 1, maxBytes: 1 << 20 },
    );
    shipper.push(line(1));
    shipper.push(line(2));
    await expect(shipper.flush()).rejects.toThrow('refused');
    shipper.push(line(3));
    await expect(shipper.flush()).rejects.toThrow('refused');
    expect(calls).toBe(1);
    expect(failures).toHaveLength(1);
  });

  it('numbers its batches from 1, so the platform can tell a retry from a new batch', async () => {
    const batches: LogBatch[] = [];
    const shipper = new LogShipper(
      async (batch) => {
        batches.push(batch);
      },
      () => {},
      { intervalMs: 1, maxLines: 2, maxBytes: 1 << 20 },
    );
    for (let n = 0; n < 5; n++) shipper.push(line(n));
    await shipper.flush();
    shipper.push(line(5));
    await shipper.flush();
    expect(batches.map((batch) => [batch.batch_seq, batch.lines.length])).toEqual([
      [1, 2],
      [2, 2],
      [3, 1],
      [4, 1],
    ]);
  });

  it('sends a batch again with the same number when the answer was lost', async () => {
    const received: { batch_seq?: number; texts: string[] }[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const batch = JSON.parse(Buffer.concat(chunks).toString()) as LogBatch;
        received.push({ batch_seq: batch.batch_seq, texts: batch.lines.map((l) => l.text) });
        // The first request is taken in, but its answer fails: the platform may have stored it.
        if (received.length === 1) response.writeHead(502).end();
        else response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const api = new JobApi(url, crypto.randomUUID(), 'job-token');
      const shipper = new LogShipper(
        (batch) => api.logs(batch),
        () => {},
        { intervalMs: 1, maxLines: 10, maxBytes: 1 << 20 },
      );
      shipper.push(line(1));
      await shipper.flush();
      shipper.push(line(2));
      await shipper.flush();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(received).toEqual([
      { batch_seq: 1, texts: ['line 1'] },
      { batch_seq: 1, texts: ['line 1'] },
      { batch_seq: 2, texts: ['line 2'] },
    ]);
  });
});
