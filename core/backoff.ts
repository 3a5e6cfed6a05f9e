const MAX_RETRY_DELAY_SECONDS = 300;

/** Exponential backoff for queue retries (2, 4, 8 … s), capped at five minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(2 ** Math.max(attempts, 1), MAX_RETRY_DELAY_SECONDS);
}
