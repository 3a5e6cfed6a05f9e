import { and, eq, gt, isNull } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import type { Database } from '../../db/client';
import { emailTokens } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';

type Executor = Pick<Database, 'insert' | 'update'>;
type Purpose = 'verify_email' | 'reset_password';

export const EMAIL_TOKEN_TTL_MS: Record<Purpose, number> = {
  verify_email: 24 * 60 * 60 * 1000,
  reset_password: 60 * 60 * 1000,
};

export async function createEmailToken(tx: Executor, userId: string, purpose: Purpose) {
  const token = randomSecret();
  await tx.insert(emailTokens).values({
    userId,
    purpose,
    tokenHash: await sha256Hex(token),
    expiresAt: new Date(Date.now() + EMAIL_TOKEN_TTL_MS[purpose]),
  });
  return token;
}

/** Marks the token used in the same statement that checks it, so it works exactly once. */
export async function consumeEmailToken(tx: Executor, token: string, purpose: Purpose) {
  const [row] = await tx
    .update(emailTokens)
    .set({ usedAt: new Date() })
    .where(
      and(
        eq(emailTokens.tokenHash, await sha256Hex(token)),
        eq(emailTokens.purpose, purpose),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, new Date()),
      ),
    )
    .returning({ userId: emailTokens.userId });
  return row?.userId;
}
