import { index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { users } from './users';

// The password step of a login for an account with MFA: an opaque, hashed, short-lived token that
// only the second-factor endpoint accepts, and only until it succeeds or runs out of attempts.
export const mfaChallenges = pgTable(
  'mfa_challenges',
  {
    ...id,
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique('mfa_challenges_token_hash_key'),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    expiresAt: timestamptz('expires_at').notNull(),
    usedAt: timestamptz('used_at'),
    ...createdAt,
  },
  (t) => [index('mfa_challenges_user_id_idx').on(t.userId)],
);

export type MfaChallenge = typeof mfaChallenges.$inferSelect;
