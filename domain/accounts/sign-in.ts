import { and, eq, gt, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import type { Database, Transaction } from '../../db/client';
import { mfaChallenges, type User, users } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import type { Audit } from '../audit';
import { consumeSecondFactor, type SecondFactorProof, unusedRecoveryCodes } from './mfa';
import { type SessionClient, type SessionGrant, startSession } from './sessions';
import { setPasswordHash } from './users';

const MFA_TOKEN_PREFIX = 'spk_mfa_';
export const MFA_CHALLENGE_TTL_SECONDS = 300;
/** Wrong codes one sign-in step tolerates before the password must be entered again. */
const MFA_CHALLENGE_MAX_FAILURES = 5;

/** The second step of a sign-in: the token that finishes it with a code. */
export interface MfaStep {
  mfaToken: string;
  expiresIn: number;
}

/**
 * What a sign-in answers once the first factor passed for an account with MFA: a short-lived token
 * to finish with a code instead of a session. The user's finished or expired steps go.
 */
async function startMfaStep(tx: Transaction, userId: string, audit: Audit): Promise<MfaStep> {
  await tx
    .delete(mfaChallenges)
    .where(
      and(
        eq(mfaChallenges.userId, userId),
        or(isNotNull(mfaChallenges.usedAt), lt(mfaChallenges.expiresAt, new Date())),
      ),
    );
  const token = randomSecret(MFA_TOKEN_PREFIX);
  await tx.insert(mfaChallenges).values({
    userId,
    tokenHash: await sha256Hex(token),
    expiresAt: new Date(Date.now() + MFA_CHALLENGE_TTL_SECONDS * 1000),
  });
  await audit(tx, {
    action: 'auth.mfa_challenge_issued',
    actorId: userId,
    targetType: 'user',
    targetId: userId,
  });
  return { mfaToken: token, expiresIn: MFA_CHALLENGE_TTL_SECONDS };
}

/**
 * The sign-in of an account whose first factor (a password, an identity provider) passed: a
 * session, or for an account with MFA the second step. `rehashed` replaces the password's hash
 * in the same transaction.
 */
export function passFirstFactor(
  db: Database,
  user: Pick<User, 'id' | 'mfaEnabledAt'>,
  client: SessionClient,
  audit: Audit,
  {
    rehashed,
    metadata,
  }: { rehashed?: string | undefined; metadata?: Record<string, unknown> } = {},
): Promise<{ mfa: MfaStep } | { session: SessionGrant }> {
  return db.transaction(async (tx) => {
    if (rehashed) await setPasswordHash(tx, user.id, rehashed);
    if (user.mfaEnabledAt) return { mfa: await startMfaStep(tx, user.id, audit) };
    return { session: await startSession(tx, user.id, client, audit, metadata) };
  });
}

/** Whose sign-in step `token` is (even a spent one), for keying rate limits by account. */
export async function mfaChallengeUser(db: Database, token: string): Promise<string | null> {
  const [row] = await db
    .select({ userId: mfaChallenges.userId })
    .from(mfaChallenges)
    .where(eq(mfaChallenges.tokenHash, await sha256Hex(token)));
  return row?.userId ?? null;
}

/**
 * The open sign-in step `token` names, with its user, locked for this transaction so concurrent
 * attempts are counted one after another. Null once it has expired, succeeded or failed too often.
 */
async function lockMfaChallenge(tx: Transaction, token: string) {
  const [row] = await tx
    .select({ challengeId: mfaChallenges.id, user: users })
    .from(mfaChallenges)
    .innerJoin(users, eq(users.id, mfaChallenges.userId))
    .where(
      and(
        eq(mfaChallenges.tokenHash, await sha256Hex(token)),
        isNull(mfaChallenges.usedAt),
        gt(mfaChallenges.expiresAt, new Date()),
        lt(mfaChallenges.failedAttempts, MFA_CHALLENGE_MAX_FAILURES),
        isNotNull(users.mfaEnabledAt),
        isNull(users.disabledAt),
      ),
    )
    .for('update', { of: mfaChallenges });
  return row ?? null;
}

async function settleMfaChallenge(tx: Transaction, challengeId: string, passed: boolean) {
  await tx
    .update(mfaChallenges)
    .set(
      passed
        ? { usedAt: new Date() }
        : { failedAttempts: sql`${mfaChallenges.failedAttempts} + 1` },
    )
    .where(eq(mfaChallenges.id, challengeId));
}

export type MfaSignIn =
  | { kind: 'expired' }
  | { kind: 'wrong' }
  | { kind: 'signed_in'; session: SessionGrant };

/**
 * The second step of a sign-in: a code for the step `token` names starts the session. A wrong
 * code counts against the step; a recovery code used is audited with how many are left.
 */
export function finishMfaSignIn(
  db: Database,
  encryptionKey: string,
  token: string,
  proof: SecondFactorProof,
  client: SessionClient,
  audit: Audit,
): Promise<MfaSignIn> {
  return db.transaction(async (tx) => {
    const open = await lockMfaChallenge(tx, token);
    if (!open) return { kind: 'expired' };
    const { user } = open;
    const factor = await consumeSecondFactor(tx, encryptionKey, user, proof);
    await settleMfaChallenge(tx, open.challengeId, factor !== null);
    const entry = { actorId: user.id, targetType: 'user', targetId: user.id };
    if (!factor) {
      await audit(tx, { ...entry, action: 'auth.mfa_failed', result: 'failure' });
      return { kind: 'wrong' };
    }
    if (factor === 'recovery_code') {
      await audit(tx, {
        ...entry,
        action: 'mfa.recovery_code_used',
        metadata: { remaining: await unusedRecoveryCodes(tx, user.id) },
      });
    }
    const session = await startSession(tx, user.id, client, audit, { mfa: factor });
    return { kind: 'signed_in', session };
  });
}
