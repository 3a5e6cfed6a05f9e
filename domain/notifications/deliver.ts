import { and, eq, sql } from 'drizzle-orm';
import type { TargetKind } from '../../core/notifications/events';
import { messageBody } from '../../core/notifications/messages';
import { SIGNATURE_HEADER, signatureHeader } from '../../core/notifications/signature';
import { checkOutboundUrl } from '../../core/outbound-url';
import { decryptSecret } from '../../core/secret-box';
import type { Database } from '../../db/client';
import { notificationDeliveries, notificationTargets } from '../../db/schema';
import { outboundPolicy } from '../../platform/config';
import type { TaskContext } from '../../platform/services';

/** Attempts per delivery, the first included: 2, 4, 8, 16, 32 s apart (core/backoff.ts). */
export const MAX_ATTEMPTS = 6;
/** A receiver that takes longer is counted as failed; the attempt is retried like any other. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** The start of a receiver's answer kept in the delivery log. */
export const EXCERPT_CHARS = 500;

export type Fetch = (request: Request) => Promise<Response>;

/** Thrown for an attempt that failed but has attempts left: the queue retries it with backoff. */
export class DeliveryFailed extends Error {}

interface Attempt {
  ok: boolean;
  responseStatus: number | null;
  responseExcerpt: string | null;
  error: string | null;
  durationMs: number;
}

async function excerpt(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  return text.slice(0, EXCERPT_CHARS);
}

async function request(
  kind: TargetKind,
  url: string,
  body: string,
  secret: string | null,
  deliveryId: string,
  eventType: string,
): Promise<Request> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Sparki-Notifications/1',
  };
  if (kind === 'webhook' && secret) {
    headers['sparki-event'] = eventType;
    headers['sparki-delivery'] = deliveryId;
    headers[SIGNATURE_HEADER.toLowerCase()] = await signatureHeader(
      secret,
      Math.floor(Date.now() / 1000),
      body,
    );
  }
  // A redirect is not followed: it could lead to an address the URL check would have refused.
  return new Request(url, { method: 'POST', headers, body, redirect: 'manual' });
}

async function attempt(fetcher: Fetch, outgoing: Request): Promise<Attempt> {
  const started = Date.now();
  try {
    const response = await fetcher(
      new Request(outgoing, { signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) }),
    );
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      responseStatus: response.status,
      responseExcerpt: await excerpt(response),
      error: ok ? null : `the receiver answered ${response.status}`,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    return {
      ok: false,
      responseStatus: null,
      responseExcerpt: null,
      error: timedOut
        ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`
        : `the request failed: ${err instanceof Error ? err.message : String(err)}`,
      durationMs: Date.now() - started,
    };
  }
}

async function record(db: Database, deliveryId: string, result: Attempt, final: boolean) {
  await db
    .update(notificationDeliveries)
    .set({
      attempts: sql`${notificationDeliveries.attempts} + 1`,
      status: result.ok ? 'succeeded' : final ? 'failed' : 'pending',
      responseStatus: result.responseStatus,
      responseExcerpt: result.responseExcerpt,
      error: result.error,
      durationMs: result.durationMs,
      lastAttemptAt: new Date(),
      ...(result.ok && { deliveredAt: new Date() }),
    })
    .where(
      and(eq(notificationDeliveries.id, deliveryId), eq(notificationDeliveries.status, 'pending')),
    );
}

/**
 * One attempt of a pending delivery, written to its log. A failed attempt with attempts left
 * throws `DeliveryFailed`, so the queue retries it with backoff; the last one marks it `failed`.
 * A delivery already settled (a duplicate queue message) is left alone.
 */
export async function deliverNotification(
  context: TaskContext,
  deliveryId: string,
  fetcher: Fetch = (outgoing) => fetch(outgoing),
): Promise<void> {
  const db = context.services.db();
  const { config } = context.services;
  const [row] = await db
    .select({ delivery: notificationDeliveries, target: notificationTargets })
    .from(notificationDeliveries)
    .innerJoin(notificationTargets, eq(notificationTargets.id, notificationDeliveries.targetId))
    .where(eq(notificationDeliveries.id, deliveryId));
  if (row?.delivery.status !== 'pending') return;
  const { delivery, target } = row;
  const final = delivery.attempts + 1 >= MAX_ATTEMPTS;
  const url = await decryptSecret(config.ENCRYPTION_KEY, target.urlEncrypted);
  // Checked again at send time: a target stored under a laxer configuration is not sent to.
  const allowed = checkOutboundUrl(url, outboundPolicy(config));
  if (!allowed.ok) {
    await record(
      db,
      delivery.id,
      {
        ok: false,
        responseStatus: null,
        responseExcerpt: null,
        error: `not sent: the URL ${allowed.message}`,
        durationMs: 0,
      },
      true,
    );
    return;
  }
  const secret = target.secretEncrypted
    ? await decryptSecret(config.ENCRYPTION_KEY, target.secretEncrypted)
    : null;
  const body = JSON.stringify(messageBody(target.kind, delivery.payload));
  const outgoing = await request(target.kind, url, body, secret, delivery.id, delivery.eventType);
  const result = await attempt(fetcher, outgoing);
  await record(db, delivery.id, result, final);
  context.logger.info('notification_attempted', {
    delivery_id: delivery.id,
    target_id: target.id,
    event_type: delivery.eventType,
    attempt: delivery.attempts + 1,
    status: result.responseStatus,
    ok: result.ok,
  });
  if (!result.ok && !final) throw new DeliveryFailed(result.error ?? 'delivery failed');
}
