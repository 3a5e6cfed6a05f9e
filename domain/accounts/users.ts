import { and, eq, isNull } from 'drizzle-orm';
import type { Database, Transaction } from '../../db/client';
import { sessions, type User, users } from '../../db/schema';
import type { Audit } from '../audit';
import { consumeEmailToken, createEmailToken } from './email-tokens';
import { revokeSession } from './sessions';

export async function findUser(db: Database, id: string): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  return user;
}

export async function userByEmail(db: Database, email: string): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.email, email));
  return user;
}

export function setPasswordHash(tx: Transaction, userId: string, passwordHash: string) {
  return tx.update(users).set({ passwordHash }).where(eq(users.id, userId));
}

/** Changes the name the account shows; the updated user, or undefined when there is none. */
export function setDisplayName(
  db: Database,
  userId: string,
  displayName: string | null,
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .update(users)
      .set({ displayName })
      .where(eq(users.id, userId))
      .returning();
    if (!user) return undefined;
    await audit(tx, {
      action: 'user.profile_updated',
      targetType: 'user',
      targetId: userId,
      metadata: { fields: ['display_name'] },
    });
    return user;
  });
}

/**
 * A new account and the token of its verification mail; undefined when the address already has
 * an account.
 */
export function signUp(
  db: Database,
  account: { email: string; passwordHash: string; displayName: string | null },
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [user] = await tx.insert(users).values(account).onConflictDoNothing().returning();
    if (!user) return undefined;
    await audit(tx, {
      action: 'user.signup',
      actorId: user.id,
      targetType: 'user',
      targetId: user.id,
    });
    return { user, token: await createEmailToken(tx, user.id, 'verify_email') };
  });
}

/** Whether the verification token was live; the address counts as confirmed from now on. */
export function verifyEmail(db: Database, token: string, audit: Audit) {
  return db.transaction(async (tx) => {
    const userId = await consumeEmailToken(tx, token, 'verify_email');
    if (!userId) return false;
    await tx.update(users).set({ emailVerifiedAt: new Date() }).where(eq(users.id, userId));
    await audit(tx, {
      action: 'user.email_verified',
      actorId: userId,
      targetType: 'user',
      targetId: userId,
    });
    return true;
  });
}

/**
 * Sets the password with a live reset token and signs every session out; whether the token was
 * live. Following the link proves the mailbox, so it also verifies the address.
 */
export function resetPassword(db: Database, token: string, passwordHash: string, audit: Audit) {
  return db.transaction(async (tx) => {
    const userId = await consumeEmailToken(tx, token, 'reset_password');
    if (!userId) return false;
    await tx
      .update(users)
      .set({ passwordHash, emailVerifiedAt: new Date() })
      .where(eq(users.id, userId));
    const live = await tx
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
    for (const session of live) await revokeSession(tx, session.id);
    await audit(tx, {
      action: 'user.password_reset',
      actorId: userId,
      targetType: 'user',
      targetId: userId,
    });
    return true;
  });
}
