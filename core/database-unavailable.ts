/**
 * SQLSTATEs for "the server cannot take this connection now" (class 53 insufficient resources,
 * 57P03 starting up or shutting down, class 08 connection failures): retrying later may succeed.
 */
const UNAVAILABLE_SQLSTATE = /^(53\d{3}|57P03|08\d{3})$/;

/** What the Neon/pg driver throws when no connection could be had (it sets no SQLSTATE). */
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|connection terminated|too many clients/i;

/** How deep a chain of `cause`s is followed (drizzle wraps the driver's error once). */
const MAX_CAUSES = 5;

/**
 * Whether `error` (or one of its causes) says the database could not be reached or refused the
 * connection for lack of room: an answer to retry later (503), not a bug (500).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_CAUSES && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_SQLSTATE.test(code)) return true;
    if (UNAVAILABLE_MESSAGE.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}
