import { vi } from 'vitest';
import { verifySignature } from '../../core/notifications/signature';

export const RECEIVER_ORIGIN = 'https://receiver.test';

export interface Received {
  path: string;
  headers: Headers;
  body: string;
  json: Record<string, unknown>;
  /** Webhooks: whether `Sparki-Signature` verified with the secret given for the path. */
  verified?: boolean;
}

/**
 * Receivers at RECEIVER_ORIGIN for the Worker's outgoing requests, answering as each path is
 * told (a list of status codes, the last repeated); every other request goes out as it would.
 * The webhook path verifies the signature as docs/notifications.md tells a receiver to.
 */
export function receivers() {
  const received: Received[] = [];
  const answers = new Map<string, number[]>();
  const secrets = new Map<string, string>();
  const realFetch = globalThis.fetch;
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(RECEIVER_ORIGIN)) return realFetch(request);
    const path = new URL(request.url).pathname;
    const body = await request.text();
    const secret = secrets.get(path);
    const entry: Received = { path, headers: request.headers, body, json: JSON.parse(body) };
    if (secret) {
      const result = await verifySignature({
        secret,
        header: request.headers.get('sparki-signature'),
        body,
      });
      entry.verified = result.ok;
    }
    received.push(entry);
    const script = answers.get(path) ?? [200];
    const status = script.length > 1 ? script.shift()! : script[0]!;
    return new Response(status < 300 ? 'ok' : `receiver says ${status}`, { status });
  });
  return {
    received,
    at: (path: string) => received.filter((entry) => entry.path === path),
    answer: (path: string, statuses: number[]) => answers.set(path, [...statuses]),
    verifyWith: (path: string, secret: string) => secrets.set(path, secret),
    spy,
  };
}
