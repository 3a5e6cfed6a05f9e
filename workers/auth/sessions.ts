import { and, eq, gte, isNull, ne } from 'drizzle-orm';
import type { Context } from 'hono';
import { sha256Hex } from '../../core/digest';
import type { Database, Transaction as Tx } from '../../db/client';
import { refreshTokens, sessions } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import { ApiError } from '../../platform/errors';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  signAccessToken,
  signingKeys,
} from '../../platform/tokens/access-tokens';
import type { HonoEnv } from '../context';

export const REFRESH_TOKEN_PREFIX = 'spk_rt_';
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/**
 * How long the previous refresh token still works after it was rotated, as long as no token of
 * its family has been rotated since: two tabs (or a retry after a lost answer) refreshing with
 * the same token at once must not sign the user out. RFC 9700 §4.14.2 allows such a grace; it
 * is kept short because within it a copied token is not detected.
 */
export const REFRESH_REUSE_GRACE_SECONDS = 30;

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  session_id: string;
}

async function newRefreshToken(
  tx: Tx | Database,
  sessionId: string,
  familyId: string,
  expiresAt: Date,
) {
  const token = randomSecret(REFRESH_TOKEN_PREFIX);
  await tx
    .insert(refreshTokens)
    .values({ sessionId, familyId, tokenHash: await sha256Hex(token), expiresAt });
  return token;
}

async function issue(c: Context<HonoEnv>, userId: string, sessionId: string, refreshToken: string) {
  const { config } = c.get('services');
  const keys = await signingKeys(config.JWT_SIGNING_KEYS);
  return {
    access_token: await signAccessToken(keys, config.PUBLIC_URL, { userId, sessionId }),
    refresh_token: refreshToken,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    session_id: sessionId,
  } satisfies IssuedTokens;
}

/** A new session with the first refresh token of a new family. */
export async function startSession(c: Context<HonoEnv>, tx: Tx, userId: string) {
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  const [session] = await tx
    .insert(sessions)
    .values({
      userId,
      userAgent: c.req.header('user-agent') ?? null,
      ip: c.req.header('cf-connecting-ip') ?? null,
      expiresAt,
    })
    .returning({ id: sessions.id });
  const refresh = await newRefreshToken(tx, session!.id, crypto.randomUUID(), expiresAt);
  return issue(c, userId, session!.id, refresh);
}

export class RefreshReuseError extends Error {}

/**
 * A spent token is the family's previous one while it was rotated within the grace and no token
 * of the family has been rotated since (its successors are all unused). Rotation times are
 * compared with each other only, so the Worker's and the database's clocks need not agree.
 */
async function isPreviousToken(
  tx: Tx,
  token: { id: string; familyId: string },
  usedAt: Date,
  now: Date,
) {
  if (now.getTime() - usedAt.getTime() > REFRESH_REUSE_GRACE_SECONDS * 1000) return false;
  const [rotatedSince] = await tx
    .select({ id: refreshTokens.id })
    .from(refreshTokens)
    .where(
      and(
        eq(refreshTokens.familyId, token.familyId),
        ne(refreshTokens.id, token.id),
        gte(refreshTokens.usedAt, usedAt),
      ),
    )
    .limit(1);
  return !rotatedSince;
}

/**
 * Rotation: a refresh token works once. Presenting one already used (or revoked) means it
 * leaked, so the whole family and its session are revoked; only the previous token, within
 * `REFRESH_REUSE_GRACE_SECONDS`, gets another pair of the same family instead.
 */
export async function rotateRefreshToken(c: Context<HonoEnv>, presented: string) {
  const db = c.get('services').db();
  const tokenHash = await sha256Hex(presented);
  const outcome = await db.transaction(async (tx) => {
    const [row] = await tx
      .select({
        id: refreshTokens.id,
        familyId: refreshTokens.familyId,
        sessionId: refreshTokens.sessionId,
        usedAt: refreshTokens.usedAt,
        revokedAt: refreshTokens.revokedAt,
        expiresAt: refreshTokens.expiresAt,
        userId: sessions.userId,
        sessionRevokedAt: sessions.revokedAt,
      })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .where(eq(refreshTokens.tokenHash, tokenHash))
      .for('update');
    if (!row) return { kind: 'invalid' } as const;
    const now = new Date();
    const reused =
      row.revokedAt ||
      row.sessionRevokedAt ||
      (row.usedAt && !(await isPreviousToken(tx, row, row.usedAt, now)));
    if (reused) {
      await tx
        .update(refreshTokens)
        .set({ revokedAt: now })
        .where(and(eq(refreshTokens.familyId, row.familyId), isNull(refreshTokens.revokedAt)));
      await tx.update(sessions).set({ revokedAt: now }).where(eq(sessions.id, row.sessionId));
      return { kind: 'reused', userId: row.userId, sessionId: row.sessionId } as const;
    }
    if (row.expiresAt <= now) return { kind: 'invalid' } as const;
    // The previous token keeps its first rotation time, so its grace is never extended.
    if (!row.usedAt) {
      await tx.update(refreshTokens).set({ usedAt: now }).where(eq(refreshTokens.id, row.id));
    }
    await tx.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, row.sessionId));
    const next = await newRefreshToken(tx, row.sessionId, row.familyId, row.expiresAt);
    return {
      kind: 'rotated',
      userId: row.userId,
      sessionId: row.sessionId,
      next,
      graced: row.usedAt !== null,
    } as const;
  });
  if (outcome.kind === 'invalid')
    throw new ApiError('unauthorized', 'Invalid or expired refresh token');
  if (outcome.kind === 'reused') {
    c.get('logger').warn('refresh_token_reuse', {
      user_id: outcome.userId,
      session_id: outcome.sessionId,
    });
    throw new ApiError(
      'unauthorized',
      'This refresh token was already used; the session has been revoked. Sign in again.',
    );
  }
  if (outcome.graced) {
    c.get('logger').info('refresh_token_grace_reuse', { session_id: outcome.sessionId });
  }
  return issue(c, outcome.userId, outcome.sessionId, outcome.next);
}
