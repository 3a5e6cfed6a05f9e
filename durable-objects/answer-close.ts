/** Codes that say no code was given or the connection broke: a Close frame may not carry them. */
const UNSENDABLE = new Set([1005, 1006, 1015]);

/**
 * Answers a peer's Close frame on a hibernatable WebSocket. workerd does not send the reply
 * itself here, so until the Durable Object does, the peer's socket stays CLOSING: a browser
 * fires `close` only after its own timeout, and a page that reconnects on `close` (the live
 * log) sat without lines meanwhile. The reply echoes the peer's code, or 1000 when it gave none.
 */
export function answerClose(ws: WebSocket, code: number, reason = ''): void {
  if (ws.readyState === WebSocket.CLOSED) return;
  try {
    ws.close(UNSENDABLE.has(code) ? 1000 : code, reason);
  } catch {
    // Closed meanwhile (the connection dropped): nothing left to answer.
  }
}
