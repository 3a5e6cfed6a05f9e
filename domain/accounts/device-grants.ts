import { and, eq, gt, lt } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import type { TokenScope } from '../../core/roles';
import type { Database } from '../../db/client';
import { type DeviceGrant, deviceGrants } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import type { Audit } from '../audit';
import { insertApiToken, type NewApiTokenInput } from './api-tokens';

const DEVICE_CODE_PREFIX = 'spk_dev_';
/** How long a user has to approve a code (RFC 8628 leaves it to the server; 10–15 min is usual). */
export const DEVICE_CODE_TTL_SECONDS = 15 * 60;
/** The least number of seconds between two polls; each poll sooner adds 5 (RFC 8628 §3.5). */
export const DEVICE_POLL_INTERVAL_SECONDS = 5;
const SLOW_DOWN_STEP_SECONDS = 5;
/** Spent or expired grants are kept this long, so a late poll still hears `expired_token`. */
const KEEP_EXPIRED_MS = 24 * 60 * 60 * 1000;

// RFC 8628 §6.1: consonants only (no vowels, so no words; no look-alikes such as 0/O or 1/I).
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;

function randomUserCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(USER_CODE_LENGTH * 2));
  let code = '';
  // 256 is not a multiple of 20: reject the top bytes so each letter is equally likely.
  for (const byte of bytes) {
    if (byte >= 240) continue;
    code += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length];
    if (code.length === USER_CODE_LENGTH) break;
  }
  return code.length === USER_CODE_LENGTH
    ? `${code.slice(0, 4)}-${code.slice(4)}`
    : randomUserCode();
}

/**
 * A user code as people type it (`abcd efgh`, `ABCDEFGH`) in its stored form `ABCD-EFGH`; null
 * when it cannot be one.
 */
export function normalizeUserCode(input: string): string | null {
  const letters = input.toUpperCase().replace(/[^A-Z]/g, '');
  if (letters.length !== USER_CODE_LENGTH) return null;
  if ([...letters].some((letter) => !USER_CODE_ALPHABET.includes(letter))) return null;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

export interface DeviceRequester {
  clientName: string;
  ip: string | null;
  userAgent: string | null;
}

export interface StartedDeviceGrant {
  deviceCode: string;
  userCode: string;
  expiresIn: number;
  interval: number;
}

function isUniqueViolation(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return (error as { code?: string })?.code === '23505' || cause?.code === '23505';
}

/** A new grant waiting for a user to approve its user code. */
export async function startDeviceGrant(
  db: Database,
  requester: DeviceRequester,
): Promise<StartedDeviceGrant> {
  const now = new Date();
  await db
    .delete(deviceGrants)
    .where(lt(deviceGrants.expiresAt, new Date(now.getTime() - KEEP_EXPIRED_MS)));
  const deviceCode = randomSecret(DEVICE_CODE_PREFIX);
  const deviceCodeHash = await sha256Hex(deviceCode);
  // 20^8 codes: a clash with a live one is rare; a few tries make it vanishingly so.
  for (let attempt = 0; ; attempt++) {
    const userCode = randomUserCode();
    try {
      await db.insert(deviceGrants).values({
        deviceCodeHash,
        userCode,
        clientName: requester.clientName,
        requestIp: requester.ip,
        requestUserAgent: requester.userAgent,
        pollInterval: DEVICE_POLL_INTERVAL_SECONDS,
        expiresAt: new Date(now.getTime() + DEVICE_CODE_TTL_SECONDS * 1000),
      });
      return {
        deviceCode,
        userCode,
        expiresIn: DEVICE_CODE_TTL_SECONDS,
        interval: DEVICE_POLL_INTERVAL_SECONDS,
      };
    } catch (error) {
      if (attempt >= 4 || !isUniqueViolation(error)) throw error;
    }
  }
}

/** The grant a user code names while it still waits for a decision; undefined otherwise. */
export async function pendingDeviceGrant(
  db: Database,
  userCode: string,
): Promise<DeviceGrant | undefined> {
  const [row] = await db
    .select()
    .from(deviceGrants)
    .where(
      and(
        eq(deviceGrants.userCode, userCode),
        eq(deviceGrants.status, 'pending'),
        gt(deviceGrants.expiresAt, new Date()),
      ),
    );
  return row;
}

export type DeviceDecision =
  | { approve: true; userId: string; workspaceId: string; scope: TokenScope }
  | { approve: false; userId: string };

/**
 * Approves or denies a pending grant, once: the decision and its audit row are written together.
 * Undefined when the code names no pending grant (unknown, expired, or already decided).
 */
export function decideDeviceGrant(
  db: Database,
  userCode: string,
  decision: DeviceDecision,
  audit: Audit,
): Promise<DeviceGrant | undefined> {
  return db.transaction(async (tx) => {
    const now = new Date();
    const [row] = await tx
      .update(deviceGrants)
      .set(
        decision.approve
          ? {
              status: 'approved',
              userId: decision.userId,
              workspaceId: decision.workspaceId,
              scope: decision.scope,
              decidedAt: now,
            }
          : { status: 'denied', userId: decision.userId, decidedAt: now },
      )
      .where(
        and(
          eq(deviceGrants.userCode, userCode),
          eq(deviceGrants.status, 'pending'),
          gt(deviceGrants.expiresAt, now),
        ),
      )
      .returning();
    if (!row) return undefined;
    await audit(tx, {
      action: decision.approve ? 'device_grant.approved' : 'device_grant.denied',
      workspaceId: decision.approve ? decision.workspaceId : null,
      targetType: 'device_grant',
      targetId: row.id,
      metadata: {
        client_name: row.clientName,
        request_ip: row.requestIp,
        ...(decision.approve ? { scope: decision.scope } : {}),
      },
    });
    return row;
  });
}

/** What a poll hears: RFC 8628 §3.5's answers, or the token once the grant is approved. */
export type DevicePoll =
  | { kind: 'invalid_grant' }
  | { kind: 'expired_token' }
  | { kind: 'slow_down'; interval: number }
  | { kind: 'authorization_pending' }
  | { kind: 'access_denied' }
  | { kind: 'token'; tokenId: string; workspaceId: string; scope: TokenScope; expiresAt: Date };

/** The token a poll of an approved grant mints, named as the device named itself. */
export type DeviceTokenMint = Pick<NewApiTokenInput, 'prefix' | 'secret' | 'expiresAt'>;

/**
 * One poll of the device: refused when it comes sooner than the grant's interval (which then
 * grows), and when the grant is approved, the personal access token, exactly once.
 */
export function pollDeviceGrant(
  db: Database,
  deviceCode: string,
  mint: DeviceTokenMint,
  audit: Audit,
): Promise<DevicePoll> {
  return db.transaction(async (tx): Promise<DevicePoll> => {
    if (!deviceCode.startsWith(DEVICE_CODE_PREFIX)) return { kind: 'invalid_grant' };
    const now = new Date();
    const [grant] = await tx
      .select()
      .from(deviceGrants)
      .where(eq(deviceGrants.deviceCodeHash, await sha256Hex(deviceCode)))
      .for('update');
    if (!grant || grant.status === 'consumed') return { kind: 'invalid_grant' };
    if (grant.expiresAt <= now) return { kind: 'expired_token' };
    const tooSoon =
      grant.lastPolledAt !== null &&
      now.getTime() - grant.lastPolledAt.getTime() < grant.pollInterval * 1000;
    if (tooSoon) {
      const interval = grant.pollInterval + SLOW_DOWN_STEP_SECONDS;
      await tx
        .update(deviceGrants)
        .set({ pollInterval: interval, lastPolledAt: now })
        .where(eq(deviceGrants.id, grant.id));
      return { kind: 'slow_down', interval };
    }
    if (grant.status === 'pending') {
      await tx.update(deviceGrants).set({ lastPolledAt: now }).where(eq(deviceGrants.id, grant.id));
      return { kind: 'authorization_pending' };
    }
    if (grant.status === 'denied') {
      await tx
        .update(deviceGrants)
        .set({ status: 'consumed', lastPolledAt: now })
        .where(eq(deviceGrants.id, grant.id));
      return { kind: 'access_denied' };
    }
    const scope = grant.scope as TokenScope;
    const token = await insertApiToken(tx, {
      ...mint,
      name: grant.clientName,
      userId: grant.userId!,
      workspaceId: grant.workspaceId!,
      scope,
    });
    await tx
      .update(deviceGrants)
      .set({ status: 'consumed', apiTokenId: token.id, lastPolledAt: now })
      .where(eq(deviceGrants.id, grant.id));
    await audit(tx, {
      action: 'api_token.created',
      actorId: grant.userId,
      workspaceId: grant.workspaceId,
      targetType: 'api_token',
      targetId: token.id,
      metadata: { name: grant.clientName, scope, prefix: token.prefix, device_grant_id: grant.id },
    });
    return {
      kind: 'token',
      tokenId: token.id,
      workspaceId: token.workspaceId,
      scope,
      expiresAt: mint.expiresAt,
    };
  });
}
