export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const RECONNECT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };
export const REQUEST_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 8_000 };

/**
 * Delay before retry number `attempt` (0 for the first): doubling up to `maxMs`, then drawn
 * from the upper half of that window so that many runners cut off together (a platform
 * deploy) do not come back in lockstep, while none retries almost at once.
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
