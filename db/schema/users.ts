import { sql } from 'drizzle-orm';
import { check, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { id, timestamps, timestamptz } from './columns';

export const users = pgTable(
  'users',
  {
    ...id,
    email: text('email').notNull(),
    emailVerifiedAt: timestamptz('email_verified_at'),
    // Null for accounts that only sign in through an identity provider.
    passwordHash: text('password_hash'),
    displayName: text('display_name'),
    // TOTP seed, AES-GCM encrypted; enrolment is pending until mfa_enabled_at is set.
    totpSecretEncrypted: text('totp_secret_encrypted'),
    mfaEnabledAt: timestamptz('mfa_enabled_at'),
    // The newest TOTP time step accepted: a code is refused unless its step is later (no replay).
    totpLastStep: integer('totp_last_step'),
    disabledAt: timestamptz('disabled_at'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    // Uniqueness is case-insensitive only if every writer lower-cases; make that a rule.
    check('users_email_lowercase', sql`${t.email} = lower(${t.email})`),
  ],
);

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
