import { timestamp, uuid } from 'drizzle-orm/pg-core';

export const timestamptz = (name: string) => timestamp(name, { withTimezone: true });

export const id = {
  id: uuid('id').primaryKey().defaultRandom(),
};

export const createdAt = {
  createdAt: timestamptz('created_at').notNull().defaultNow(),
};

export const timestamps = {
  ...createdAt,
  updatedAt: timestamptz('updated_at')
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
};
