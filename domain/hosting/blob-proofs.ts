import { and, eq, inArray } from 'drizzle-orm';
import { chunks } from '../../core/chunks';
import type { Database } from '../../db/client';
import { blobProofs } from '../../db/schema';

/**
 * Which shared blobs a workspace has proven it holds (db/schema/blob-proofs.ts). Only these may
 * be skipped by its uploads or named by its output: answering from the shared store would tell
 * any runner what other tenants store, and let it publish their content by hash.
 */

/** Rows per statement: an output's 20,000 hashes stay well inside Postgres's 65,535 parameters. */
export const HASHES_PER_STATEMENT = 5_000;

/** The blobs among `hashes` the workspace has proven it holds. */
export async function provenBlobs(
  db: Database,
  workspaceId: string,
  hashes: readonly string[],
): Promise<Set<string>> {
  const proven = new Set<string>();
  for (const chunk of chunks([...new Set(hashes)], HASHES_PER_STATEMENT)) {
    const rows = await db
      .select({ hash: blobProofs.hash })
      .from(blobProofs)
      .where(and(eq(blobProofs.workspaceId, workspaceId), inArray(blobProofs.hash, chunk)));
    for (const row of rows) proven.add(row.hash);
  }
  return proven;
}

/** Records that the workspace holds these blobs' bytes; each must be stored already. */
export async function recordBlobProofs(
  db: Database,
  workspaceId: string,
  hashes: readonly string[],
): Promise<void> {
  for (const chunk of chunks([...new Set(hashes)], HASHES_PER_STATEMENT)) {
    await db
      .insert(blobProofs)
      .values(chunk.map((hash) => ({ workspaceId, hash })))
      .onConflictDoNothing();
  }
}
