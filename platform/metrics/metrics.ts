import type { MetricEvent } from '../../core/metrics/events';

/**
 * Where the places an event happens report it. `record` never throws and never waits: a backend
 * that does I/O keeps the write in flight, and `flush` (for `ctx.waitUntil`) resolves once every
 * write begun so far has ended, failed writes included (they are logged, a metric is never worth
 * failing a request or a build for).
 */
export interface Metrics {
  record(event: MetricEvent): void;
  flush(): Promise<void>;
}

export const noMetrics: Metrics = {
  record() {},
  flush: async () => {},
};

/** Every backend gets every event. */
export function fanOut(backends: Metrics[]): Metrics {
  if (backends.length === 0) return noMetrics;
  if (backends.length === 1) return backends[0]!;
  return {
    record(event) {
      for (const backend of backends) backend.record(event);
    },
    async flush() {
      await Promise.all(backends.map((backend) => backend.flush()));
    },
  };
}
