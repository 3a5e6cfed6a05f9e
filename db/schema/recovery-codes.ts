import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { users } from './users';

export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    ...id,
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull().unique('recovery_codes_code_hash_key'),
    usedAt: timestamptz('used_at'),
    ...createdAt,
  },
  (t) => [index('recovery_codes_user_id_idx').on(t.userId)],
);

export type RecoveryCode = typeof recoveryCodes.$inferSelect;
