import { index, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id } from './columns';
import { users } from './users';

// A user's accounts at identity providers (OIDC issuers, GitHub), matched by stable subject.
export const identities = pgTable(
  'identities',
  {
    ...id,
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    subject: text('subject').notNull(),
    email: text('email'),
    ...createdAt,
  },
  (t) => [
    unique('identities_provider_subject_key').on(t.provider, t.subject),
    index('identities_user_id_idx').on(t.userId),
  ],
);

export type Identity = typeof identities.$inferSelect;
