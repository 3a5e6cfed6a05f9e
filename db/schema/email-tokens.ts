import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { emailTokenPurpose } from './enums';
import { users } from './users';

// Single-use links sent by mail; only a hash is stored, so a database leak yields no live link.
export const emailTokens = pgTable(
  'email_tokens',
  {
    ...id,
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: emailTokenPurpose('purpose').notNull(),
    tokenHash: text('token_hash').notNull().unique('email_tokens_token_hash_key'),
    expiresAt: timestamptz('expires_at').notNull(),
    usedAt: timestamptz('used_at'),
    ...createdAt,
  },
  (t) => [index('email_tokens_user_id_idx').on(t.userId)],
);

export type EmailToken = typeof emailTokens.$inferSelect;
