import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { identities, type User, users } from '../../db/schema';
import { ApiError } from '../../platform/errors';
import type { Audit } from '../audit';

/** An identity at a provider: subjects are only unique within one issuer. */
export interface ProviderSubject {
  provider: string;
  subject: string;
}

/** The account an identity is linked to, if any. */
export async function userWithIdentity(
  db: Database,
  identity: ProviderSubject,
): Promise<User | undefined> {
  const [row] = await db
    .select({ user: users })
    .from(identities)
    .innerJoin(users, eq(users.id, identities.userId))
    .where(
      and(eq(identities.provider, identity.provider), eq(identities.subject, identity.subject)),
    );
  return row?.user;
}

function retry(): ApiError {
  return new ApiError('conflict', 'Another sign-in for this account ran at the same time; retry');
}

/**
 * Links the identity to `holder`, or without one to a new account for `email` (verified by the
 * provider), and returns the account.
 */
export function linkIdentity(
  db: Database,
  link: {
    holder: User | undefined;
    email: string;
    displayName: string | null;
    identity: ProviderSubject;
  },
  audit: Audit,
) {
  const { holder, email, identity } = link;
  return db.transaction(async (tx) => {
    let user = holder;
    if (!user) {
      [user] = await tx
        .insert(users)
        .values({ email, emailVerifiedAt: new Date(), displayName: link.displayName })
        .onConflictDoNothing()
        .returning();
      if (!user) throw retry();
      await audit(tx, {
        action: 'user.signup',
        actorId: user.id,
        targetType: 'user',
        targetId: user.id,
        metadata: { provider: identity.provider },
      });
    }
    const [linked] = await tx
      .insert(identities)
      .values({ userId: user.id, provider: identity.provider, subject: identity.subject, email })
      .onConflictDoNothing()
      .returning({ id: identities.id });
    if (!linked) throw retry();
    await audit(tx, {
      action: 'identity.linked',
      actorId: user.id,
      targetType: 'identity',
      targetId: linked.id,
      metadata: { provider: identity.provider, new_account: !holder },
    });
    return user;
  });
}
