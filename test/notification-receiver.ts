import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../core/notifications/signature';

/** A delivery as the API lists it (`NotificationDelivery`), as far as the tests read it. */
export interface DeliveryBody {
  id: string;
  event_type: string;
  event_id: string;
  status: string;
  attempts: number;
  response_status: number | null;
  response_excerpt: string | null;
  error: string | null;
  duration_ms: number | null;
  redelivery_of: string | null;
}

export interface ReceivedNotification {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
  /** Paths given a secret: whether `Sparki-Signature` verified, as a receiver must check it. */
  verified?: boolean;
  /** What this receiver answered. */
  status: number;
}

/**
 * Local receivers for notifications on 127.0.0.1, one per path: a signed-webhook endpoint that
 * verifies the HMAC as docs/notifications.md tells receivers to, and endpoints answering as
 * Slack's and Discord's incoming webhooks do (`ok` / 204). A path can be told to fail first.
 */
export async function startNotificationReceiver() {
  const received: ReceivedNotification[] = [];
  const scripts = new Map<string, number[]>();
  const secrets = new Map<string, string>();
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (body += chunk));
    request.on('end', async () => {
      const path = new URL(request.url ?? '/', 'http://receiver').pathname;
      const secret = secrets.get(path);
      const signature = request.headers['sparki-signature'];
      const verified = secret
        ? (await verifySignature({ secret, header: String(signature ?? ''), body })).ok
        : undefined;
      const script = scripts.get(path);
      const scripted = script && (script.length > 1 ? script.shift()! : script[0]!);
      // A signed webhook that fails verification is refused, as a real receiver would.
      const status =
        verified === false ? 401 : (scripted ?? (path.includes('discord') ? 204 : 200));
      received.push({
        path,
        headers: request.headers,
        body,
        json: body ? JSON.parse(body) : {},
        ...(verified !== undefined && { verified }),
        status,
      });
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(
        status === 204 ? undefined : status < 300 ? 'ok' : `failing on purpose (${status})`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    at: (path: string) => received.filter((entry) => entry.path === path),
    /** The statuses `path` answers in turn; the last one repeats. */
    answer: (path: string, statuses: number[]) => scripts.set(path, [...statuses]),
    verifyWith: (path: string, secret: string) => secrets.set(path, secret),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type NotificationReceiver = Awaited<ReturnType<typeof startNotificationReceiver>>;
