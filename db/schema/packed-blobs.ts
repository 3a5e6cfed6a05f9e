import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt } from './columns';

/**
 * Blobs kept inside a pack (SITES `packs/<sha256 of the pack>`) rather than as `blobs/<sha256>`:
 * the small blobs of one upload batch are written as one object, so a 1,000-file output costs a
 * handful of storage writes instead of 1,000. Shared between tenants like the blobs themselves
 * (who may name one is `blob_proofs`'); the first pack recorded for a hash is the one used.
 */
export const packedBlobs = pgTable('packed_blobs', {
  hash: text('hash').primaryKey(),
  pack: text('pack').notNull(),
  offset: integer('offset').notNull(),
  ...createdAt,
});
