import { index, inet, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { users } from './users';

export const sessions = pgTable(
  'sessions',
  {
    ...id,
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    userAgent: text('user_agent'),
    ip: inet('ip'),
    lastSeenAt: timestamptz('last_seen_at').notNull().defaultNow(),
    revokedAt: timestamptz('revoked_at'),
    expiresAt: timestamptz('expires_at').notNull(),
    ...createdAt,
  },
  (t) => [index('sessions_user_id_idx').on(t.userId)],
);

// Rotated on every use; presenting a token whose used_at is set revokes its whole family.
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    ...id,
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull().unique('refresh_tokens_token_hash_key'),
    usedAt: timestamptz('used_at'),
    revokedAt: timestamptz('revoked_at'),
    expiresAt: timestamptz('expires_at').notNull(),
    ...createdAt,
  },
  (t) => [
    index('refresh_tokens_family_id_idx').on(t.familyId),
    index('refresh_tokens_session_id_idx').on(t.sessionId),
  ],
);

export type Session = typeof sessions.$inferSelect;
export type NewSession = typeof sessions.$inferInsert;
export type RefreshToken = typeof refreshTokens.$inferSelect;
export type NewRefreshToken = typeof refreshTokens.$inferInsert;
