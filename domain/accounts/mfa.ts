import { and, count, eq, isNull, lt, or } from 'drizzle-orm';
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
import { ApiError } from '../../platform/errors';
import { verifyPassword } from '../../platform/password';
import type { Audit } from '../audit';

type Executor = Database | Transaction;

export type SecondFactor = 'totp' | 'recovery_code';

export interface SecondFactorProof {
  code?: string | undefined;
  recovery_code?: string | undefined;
}

/** What an MFA change asks for again: the password (when the account has one) and a factor. */
export type Reauthentication = SecondFactorProof & { password?: string | undefined };

type FactorHolder = Pick<User, 'id' | 'totpSecretEncrypted'>;

/**
 * Accepts a TOTP code at most once: its time step must be later than the last one accepted
 * (RFC 6238 §5.2), claimed with a conditional update so two concurrent uses cannot both win.
 */
async function consumeTotp(
  tx: Executor,
  encryptionKey: string,
  user: FactorHolder,
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
  user: FactorHolder,
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
async function passwordMatches(
  user: Pick<User, 'passwordHash'>,
  password: string | undefined,
): Promise<boolean> {
  if (!user.passwordHash) return true;
  if (password === undefined) return false;
  return (await verifyPassword(password, user.passwordHash)).ok;
}

/** A fresh set of recovery codes; the previous set stops working. Only hashes are stored. */
async function replaceRecoveryCodes(tx: Transaction, userId: string): Promise<string[]> {
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
 * Stores a new TOTP secret (sealed) awaiting its first code, replacing a pending one; false when
 * MFA is on already.
 */
export function startTotpEnrolment(db: Database, userId: string, sealed: string, audit: Audit) {
  return db.transaction(async (tx) => {
    const [pending] = await tx
      .update(users)
      .set({ totpSecretEncrypted: sealed, totpLastStep: null })
      .where(and(eq(users.id, userId), isNull(users.mfaEnabledAt)))
      .returning({ id: users.id });
    if (!pending) return false;
    await audit(tx, { action: 'mfa.enrolment_started', targetType: 'user', targetId: userId });
    return true;
  });
}

/**
 * Turns MFA on once a code matches the pending secret, and issues the first recovery codes; null
 * when the code does not match. A secret replaced meanwhile is a conflict.
 */
export function confirmTotpEnrolment(
  db: Database,
  encryptionKey: string,
  user: FactorHolder & { totpSecretEncrypted: string },
  code: string,
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    if (!(await consumeSecondFactor(tx, encryptionKey, user, { code }))) return null;
    const [enabled] = await tx
      .update(users)
      .set({ mfaEnabledAt: new Date() })
      .where(
        and(
          eq(users.id, user.id),
          isNull(users.mfaEnabledAt),
          eq(users.totpSecretEncrypted, user.totpSecretEncrypted),
        ),
      )
      .returning({ id: users.id });
    // Thrown, not returned, so the code it spent is given back with the rest.
    if (!enabled) throw new ApiError('conflict', 'Enrolment changed meanwhile; start again');
    const issued = await replaceRecoveryCodes(tx, user.id);
    await audit(tx, { action: 'mfa.enabled', targetType: 'user', targetId: user.id });
    return issued;
  });
}

/** An MFA change a user asks for, with what they offer to prove it is them. */
export interface MfaChangeRequest {
  user: User;
  proof: Reauthentication;
  encryptionKey: string;
  audit: Audit;
}

/**
 * Runs an MFA change only after the password and a second factor check out; the attempt is
 * audited as `action` either way, the change in the same transaction. Undefined when refused.
 */
async function reauthenticated<T>(
  db: Database,
  { user, proof, encryptionKey, audit }: MfaChangeRequest,
  action: string,
  change: (tx: Transaction) => Promise<T>,
): Promise<{ value: T } | undefined> {
  const passwordOk = await passwordMatches(user, proof.password);
  return db.transaction(async (tx) => {
    const factor = passwordOk ? await consumeSecondFactor(tx, encryptionKey, user, proof) : null;
    const entry = { action, targetType: 'user', targetId: user.id };
    if (!factor) {
      await audit(tx, { ...entry, result: 'failure' });
      return undefined;
    }
    const value = await change(tx);
    await audit(tx, { ...entry, metadata: { factor } });
    return { value };
  });
}

/** A new set of recovery codes; undefined when the re-authentication failed. */
export async function regenerateRecoveryCodes(db: Database, request: MfaChangeRequest) {
  const userId = request.user.id;
  const outcome = await reauthenticated(db, request, 'mfa.recovery_codes_regenerated', (tx) =>
    replaceRecoveryCodes(tx, userId),
  );
  return outcome?.value;
}

/**
 * Turns MFA off: the secret, the recovery codes and any half-finished sign-in go together.
 * Whether the re-authentication passed.
 */
export async function disableMfa(db: Database, request: MfaChangeRequest) {
  const userId = request.user.id;
  const outcome = await reauthenticated(db, request, 'mfa.disabled', async (tx) => {
    await tx
      .update(users)
      .set({ totpSecretEncrypted: null, mfaEnabledAt: null, totpLastStep: null })
      .where(eq(users.id, userId));
    await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
    await tx.delete(mfaChallenges).where(eq(mfaChallenges.userId, userId));
  });
  return outcome !== undefined;
}
