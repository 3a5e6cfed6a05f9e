import { eq } from 'drizzle-orm';
import type { BuildEndStatus } from '../../core/log-stream';
import type { Database } from '../../db/client';
import { builds } from '../../db/schema';
import { buildSession } from '../../platform/durable-objects';

/** The build has ended: its log is frozen and archived to R2, and Postgres learns where. */
export async function closeBuildLog(
  env: Env,
  db: Database,
  buildId: string,
  status: BuildEndStatus,
): Promise<void> {
  const { logKey } = await buildSession(env, buildId).finish(status);
  await db.update(builds).set({ logKey }).where(eq(builds.id, buildId));
}
