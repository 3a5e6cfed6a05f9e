import { and, desc, eq, gt, gte, isNull, ne, sql } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import type { Database, Transaction } from '../../db/client';
import { preparedSelect } from '../../db/prepared-select';
import { refreshTokens, sessions, users } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import type { Audit } from '../audit';

const REFRESH_TOKEN_PREFIX = 'spk_rt_';
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/**
 * How long the previous refresh token still works after it was rotated, as long as no token of
 * its family has been rotated since: two tabs (or a retry after a lost answer) refreshing with
 * the same token at once must not sign the user out. RFC 9700 §4.14.2 allows such a grace; it
 * is kept short because within it a copied token is not detected.
 */
export const REFRESH_REUSE_GRACE_SECONDS = 30;

type Executor = Database | Transaction;

/** A signed-in user's session, as its access token names it. */
export interface SessionCredential {
  kind: 'session';
  userId: string;
  sessionId: string;
}

/** The device a session is opened from, as its request describes it. */
export interface SessionClient {
  userAgent: string | null;
  ip: string | null;
}

/** A live session and the refresh token its holder gets for it now. */
export interface SessionGrant {
  userId: string;
  sessionId: string;
  refreshToken: string;
}

async function newRefreshToken(tx: Executor, sessionId: string, familyId: string, expiresAt: Date) {
  const token = randomSecret(REFRESH_TOKEN_PREFIX);
  await tx
    .insert(refreshTokens)
    .values({ sessionId, familyId, tokenHash: await sha256Hex(token), expiresAt });
  return token;
}

/**
 * The end of every sign-in path (password, second factor, identity provider): a new session with
 * the first refresh token of a new family, and the one `auth.login` audit row.
 */
export async function startSession(
  tx: Transaction,
  userId: string,
  client: SessionClient,
  audit: Audit,
  metadata?: Record<string, unknown>,
): Promise<SessionGrant> {
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  const [session] = await tx
    .insert(sessions)
    .values({ userId, userAgent: client.userAgent, ip: client.ip, expiresAt })
    .returning({ id: sessions.id });
  const sessionId = session!.id;
  const refreshToken = await newRefreshToken(tx, sessionId, crypto.randomUUID(), expiresAt);
  await audit(tx, {
    action: 'auth.login',
    actorId: userId,
    targetType: 'session',
    targetId: sessionId,
    metadata,
  });
  return { userId, sessionId, refreshToken };
}

/**
 * A spent token is the family's previous one while it was rotated within the grace and no token
 * of the family has been rotated since (its successors are all unused). Rotation times are
 * compared with each other only, so the Worker's and the database's clocks need not agree.
 */
async function isPreviousToken(
  tx: Transaction,
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

export type Rotation =
  | { kind: 'invalid' }
  | { kind: 'reused'; userId: string; sessionId: string }
  | { kind: 'rotated'; grant: SessionGrant; graced: boolean };

/**
 * Rotation: a refresh token works once. Presenting one already used (or revoked) means it
 * leaked, so the whole family and its session are revoked; only the previous token, within
 * `REFRESH_REUSE_GRACE_SECONDS`, gets another of the same family instead (`graced`).
 */
export async function rotateRefreshToken(db: Database, presented: string): Promise<Rotation> {
  const tokenHash = await sha256Hex(presented);
  return db.transaction(async (tx) => {
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
    if (!row) return { kind: 'invalid' };
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
      return { kind: 'reused', userId: row.userId, sessionId: row.sessionId };
    }
    if (row.expiresAt <= now) return { kind: 'invalid' };
    // The previous token keeps its first rotation time, so its grace is never extended.
    if (!row.usedAt) {
      await tx.update(refreshTokens).set({ usedAt: now }).where(eq(refreshTokens.id, row.id));
    }
    await tx.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, row.sessionId));
    const refreshToken = await newRefreshToken(tx, row.sessionId, row.familyId, row.expiresAt);
    return {
      kind: 'rotated',
      grant: { userId: row.userId, sessionId: row.sessionId, refreshToken },
      graced: row.usedAt !== null,
    };
  });
}

/** Asked at every authenticated request, so its SQL is built once (`preparedSelect`). */
const liveSession = preparedSelect((db) =>
  db
    .select({ id: sessions.id })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.id, sql.placeholder('sessionId')),
        eq(sessions.userId, sql.placeholder('userId')),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql.placeholder('now')),
        isNull(users.disabledAt),
      ),
    ),
);

/** Whether the user's session is neither revoked nor expired, and the user not disabled. */
export async function isLiveSession(
  db: Database,
  session: Pick<SessionCredential, 'userId' | 'sessionId'>,
): Promise<boolean> {
  const [live] = await liveSession(db, {
    sessionId: session.sessionId,
    userId: session.userId,
    now: new Date(),
  });
  return live !== undefined;
}

/** Signs one session out: the session and every refresh token it still has. */
export async function revokeSession(tx: Executor, sessionId: string) {
  const now = new Date();
  await tx.update(sessions).set({ revokedAt: now }).where(eq(sessions.id, sessionId));
  await tx
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.sessionId, sessionId), isNull(refreshTokens.revokedAt)));
}

/** A user's sessions neither revoked nor expired, most recently used first. */
export function liveSessionsOf(db: Database, userId: string) {
  return db
    .select()
    .from(sessions)
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, new Date()),
      ),
    )
    .orderBy(desc(sessions.lastSeenAt));
}

/** Ends a session, audited as `action`, in one transaction. */
export function endSession(db: Database, sessionId: string, action: string, audit: Audit) {
  return db.transaction(async (tx) => {
    await revokeSession(tx, sessionId);
    await audit(tx, { action, targetType: 'session', targetId: sessionId });
  });
}

/** Whether a live session of the user was revoked. */
export function revokeOwnSession(db: Database, userId: string, sessionId: string, audit: Audit) {
  return db.transaction(async (tx) => {
    const [owned] = await tx
      .select({ id: sessions.id })
      .from(sessions)
      .where(
        and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)),
      );
    if (!owned) return false;
    await revokeSession(tx, sessionId);
    await audit(tx, { action: 'auth.session_revoked', targetType: 'session', targetId: sessionId });
    return true;
  });
}
