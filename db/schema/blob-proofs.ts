import { pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from './columns';
import { workspaces } from './workspaces';

/**
 * The blobs (SITES `blobs/<sha256>`) a workspace has shown it holds the bytes of: one of its
 * runners or people uploaded them, or one of its deployments published them. Blobs are shared
 * between tenants; these rows are not. An upload skips only what its workspace proved, and an
 * output may name only such blobs, so no tenant learns or publishes another's content by hash.
 * Rows, not R2 markers: a 1,000-file output is checked with one query instead of 1,000 reads.
 */
export const blobProofs = pgTable(
  'blob_proofs',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    hash: text('hash').notNull(),
    ...createdAt,
  },
  (t) => [primaryKey({ name: 'blob_proofs_pkey', columns: [t.workspaceId, t.hash] })],
);
