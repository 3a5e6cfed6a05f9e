import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { User } from '../../db/schema';
import { linkIdentity, userWithIdentity } from '../../domain/accounts/identities';
import { passFirstFactor } from '../../domain/accounts/sign-in';
import { userByEmail } from '../../domain/accounts/users';
import { ApiError } from '../../platform/errors';
import { auditFor, recordAudit } from '../audit';
import type { HonoEnv } from '../context';
import type { ExternalIdentity } from './oidc';
import { type IssuedTokens, issueTokens, sessionClient } from './sign-in';

const ProviderEmailSchema = z.email().transform((email) => email.toLowerCase());

function assertActive(user: User) {
  if (user.disabledAt) throw new ApiError('forbidden', 'This account is disabled');
}

/**
 * First sign-in with this identity: link it to the account holding the same address, or
 * create one. Both only on an address the provider itself has verified; otherwise anyone who
 * can type someone else's address at some provider would walk into their account.
 */
async function linkOrCreate(
  c: Context<HonoEnv>,
  label: string,
  external: ExternalIdentity,
): Promise<User> {
  const db = c.get('services').db();
  const parsedEmail = ProviderEmailSchema.safeParse(external.email);
  const email = parsedEmail.success ? parsedEmail.data : undefined;
  const holder = email ? await userByEmail(db, email) : undefined;
  if (!email || !external.emailVerified) {
    if (holder) {
      await recordAudit(db, c, {
        action: 'identity.link',
        actorId: null,
        targetType: 'user',
        targetId: holder.id,
        result: 'denied',
        metadata: { provider: external.provider, reason: 'email_not_verified_by_provider' },
      });
    }
    // The same answer whether or not an account holds the address, so it reveals neither.
    throw new ApiError(
      'email_not_verified',
      `${label} has not verified an email address for this account, so Sparki can neither link it to an existing account nor create one. Verify the address there, or sign in with your password.`,
    );
  }
  if (holder && !holder.emailVerifiedAt) {
    // Someone may have registered this address without owning it; linking would hand the
    // real owner an account whose password a stranger knows.
    throw new ApiError(
      'conflict',
      `An account for ${email} exists but its address was never confirmed. Confirm it from the verification mail (or reset the password), then sign in with ${label} again.`,
    );
  }
  if (holder) assertActive(holder);
  return linkIdentity(
    db,
    { holder, email, displayName: external.displayName, identity: external },
    auditFor(c),
  );
}

export type IdentitySignIn = { tokens: IssuedTokens } | { mfaToken: string };

/**
 * Signs in the account behind an external identity, linking or creating it on first use. An
 * account with MFA gets the same second step as a password sign-in: the provider vouches for
 * the first factor only.
 */
export async function signInWithIdentity(
  c: Context<HonoEnv>,
  label: string,
  external: ExternalIdentity,
): Promise<IdentitySignIn> {
  const db = c.get('services').db();
  const user = (await userWithIdentity(db, external)) ?? (await linkOrCreate(c, label, external));
  assertActive(user);
  const outcome = await passFirstFactor(db, user, sessionClient(c), auditFor(c), {
    metadata: { provider: external.provider },
  });
  if ('mfa' in outcome) return { mfaToken: outcome.mfa.mfaToken };
  return { tokens: await issueTokens(c, outcome.session) };
}
