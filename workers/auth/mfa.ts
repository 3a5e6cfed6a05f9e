import { and, count, eq, gt, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { sha256Hex } from '../../core/digest';
import {
  generateRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_COUNT,
} from '../../core/recovery-codes';
import { decryptSecret } from '../../core/secret-box';
import { matchTotpStep } from '../../core/totp';
import type { Database, Transaction } from '../../db/client';
import { mfaChallenges, recoveryCodes, type User, users } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import { verifyPassword } from '../../platform/password';
import { recordAudit } from '../audit';
import type { HonoEnv } from '../context';

type Executor = Database | Transaction;

export const MFA_TOKEN_PREFIX = 'spk_mfa_';
export const MFA_CHALLENGE_TTL_SECONDS = 300;
/** Wrong codes one sign-in step tolerates before the password must be entered again. */
export const MFA_CHALLENGE_MAX_FAILURES = 5;

export type SecondFactor = 'totp' | 'recovery_code';

export interface SecondFactorProof {
  code?: string | undefined;
  recovery_code?: string | undefined;
}

/**
 * Accepts a TOTP code at most once: its time step must be later than the last one accepted
 * (RFC 6238 §5.2), claimed with a conditional update so two concurrent uses cannot both win.
 */
async function consumeTotp(
  tx: Executor,
  encryptionKey: string,
  user: Pick<User, 'id' | 'totpSecretEncrypted'>,
  code: string,
): Promise<boolean> {
  if (!user.totpSecretEncrypted) return false;
  const secret = await decryptSecret(encryptionKey, user.totpSecretEncrypted);
  const step = matchTotpStep(secret, code);
  if (step === null) return false;
  const [claimed] = await tx
    .update(users)
    .set({ totpLastStep: step })
    .where(and(eq(users.id, user.id), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
    .returning({ id: users.id });
  return claimed !== undefined;
}

async function consumeRecoveryCode(tx: Executor, userId: string, code: string): Promise<boolean> {
  const canonical = normalizeRecoveryCode(code);
  if (!canonical) return false;
  const [used] = await tx
    .update(recoveryCodes)
    .set({ usedAt: new Date() })
    .where(
      and(
        eq(recoveryCodes.userId, userId),
        eq(recoveryCodes.codeHash, await sha256Hex(canonical)),
        isNull(recoveryCodes.usedAt),
      ),
    )
    .returning({ id: recoveryCodes.id });
  return used !== undefined;
}

/** Checks and spends the factor offered (a TOTP code or a recovery code); null when it fails. */
export async function consumeSecondFactor(
  tx: Executor,
  encryptionKey: string,
  user: Pick<User, 'id' | 'totpSecretEncrypted'>,
  proof: SecondFactorProof,
): Promise<SecondFactor | null> {
  if (proof.code !== undefined) {
    return (await consumeTotp(tx, encryptionKey, user, proof.code)) ? 'totp' : null;
  }
  if (proof.recovery_code !== undefined) {
    return (await consumeRecoveryCode(tx, user.id, proof.recovery_code)) ? 'recovery_code' : null;
  }
  return null;
}

/** Re-authentication for MFA changes: accounts without a password prove themselves by factor alone. */
export async function passwordMatches(
  user: Pick<User, 'passwordHash'>,
  password: string | undefined,
): Promise<boolean> {
  if (!user.passwordHash) return true;
  if (password === undefined) return false;
  return (await verifyPassword(password, user.passwordHash)).ok;
}

/** A fresh set of recovery codes; the previous set stops working. Only hashes are stored. */
export async function replaceRecoveryCodes(tx: Transaction, userId: string): Promise<string[]> {
  await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
  const rows = await Promise.all(
    codes.map(async (code) => ({
      userId,
      codeHash: await sha256Hex(normalizeRecoveryCode(code)!),
    })),
  );
  await tx.insert(recoveryCodes).values(rows);
  return codes;
}

export async function unusedRecoveryCodes(db: Executor, userId: string): Promise<number> {
  const [row] = await db
    .select({ remaining: count() })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
  return row?.remaining ?? 0;
}

/**
 * What a sign-in answers once the first factor passed for an account with MFA: a short-lived token
 * for POST /api/auth/mfa/verify instead of a session. The user's finished or expired steps go.
 */
export async function startMfaStep(c: Context<HonoEnv>, tx: Transaction, userId: string) {
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
  await recordAudit(tx, c, {
    action: 'auth.mfa_challenge_issued',
    actorId: userId,
    targetType: 'user',
    targetId: userId,
  });
  return { mfa_required: true, mfa_token: token, expires_in: MFA_CHALLENGE_TTL_SECONDS } as const;
}

/** Whose sign-in step `token` is (even a spent one), for keying rate limits by account. */
export async function mfaChallengeUser(db: Executor, token: string): Promise<string | null> {
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
export async function lockMfaChallenge(tx: Transaction, token: string) {
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

export async function settleMfaChallenge(tx: Transaction, challengeId: string, passed: boolean) {
  await tx
    .update(mfaChallenges)
    .set(
      passed
        ? { usedAt: new Date() }
        : { failedAttempts: sql`${mfaChallenges.failedAttempts} + 1` },
    )
    .where(eq(mfaChallenges.id, challengeId));
}

/** Turns MFA off: the secret, the recovery codes and any half-finished sign-in go together. */
export async function disableMfa(tx: Transaction, userId: string) {
  await tx
    .update(users)
    .set({ totpSecretEncrypted: null, mfaEnabledAt: null, totpLastStep: null })
    .where(eq(users.id, userId));
  await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  await tx.delete(mfaChallenges).where(eq(mfaChallenges.userId, userId));
}

/** Stores a new TOTP secret awaiting its first code; false when MFA is on already. */
export async function setPendingTotpSecret(tx: Transaction, userId: string, sealed: string) {
  const [pending] = await tx
    .update(users)
    .set({ totpSecretEncrypted: sealed, totpLastStep: null })
    .where(and(eq(users.id, userId), isNull(users.mfaEnabledAt)))
    .returning({ id: users.id });
  return pending !== undefined;
}

/** Turns MFA on with the pending secret the code was checked against; false if it changed. */
export async function enableMfa(tx: Transaction, userId: string, pendingSecret: string) {
  const [enabled] = await tx
    .update(users)
    .set({ mfaEnabledAt: new Date() })
    .where(
      and(
        eq(users.id, userId),
        isNull(users.mfaEnabledAt),
        eq(users.totpSecretEncrypted, pendingSecret),
      ),
    )
    .returning({ id: users.id });
  return enabled !== undefined;
}
