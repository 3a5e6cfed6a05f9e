import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { createDb, type DbHandle } from '../../db/client';
import { builds, projects, workspaces } from '../../db/schema';
import worker from '../../workers/index';

/** A pool of the test's own onto the Postgres the global setup provides. */
export function testDb(): DbHandle {
  return createDb(env.DATABASE_URL, { wsProxy: env.NEON_WS_PROXY });
}

/** Calls the Worker's `fetch` with a modified environment (e.g. a dependency pointed elsewhere). */
export async function fetchWithEnv(path: string, overrides: Partial<Env>, init?: RequestInit) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://sparki.test${path}`, init),
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

export function fetchWorker(path: string, init?: RequestInit) {
  return fetchWithEnv(path, {}, init);
}

export async function runScheduled(overrides: Partial<Env> = {}) {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ cron: '* * * * *' }),
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

/** A workspace and a project in it, under fresh slugs so test files never collide. */
export async function seedWorkspaceProject(
  db: DbHandle['db'],
  values: Partial<typeof projects.$inferInsert> = {},
) {
  const suffix = crypto.randomUUID().slice(0, 8);
  const [workspace] = await db
    .insert(workspaces)
    .values({ name: `Test ${suffix}`, slug: `test-${suffix}` })
    .returning();
  const [project] = await db
    .insert(projects)
    .values({ workspaceId: workspace!.id, name: 'Shop', slug: `shop-${suffix}`, ...values })
    .returning();
  return { workspace: workspace!, project: project! };
}

/** A workspace, a project and one queued build, under fresh ids so test files never collide. */
export async function seedQueuedBuild(db: DbHandle['db']) {
  const suffix = crypto.randomUUID().slice(0, 8);
  const [workspace] = await db
    .insert(workspaces)
    .values({ name: `Test ${suffix}`, slug: `test-${suffix}` })
    .returning();
  const [project] = await db
    .insert(projects)
    .values({ workspaceId: workspace!.id, name: 'site', slug: 'site' })
    .returning();
  const [build] = await db
    .insert(builds)
    .values({ projectId: project!.id, number: 1, commitSha: 'a'.repeat(40), trigger: 'manual' })
    .returning();
  return { workspace: workspace!, project: project!, build: build! };
}

export async function buildStatus(db: DbHandle['db'], buildId: string) {
  const [row] = await db
    .select({ status: builds.status })
    .from(builds)
    .where(eq(builds.id, buildId));
  return row?.status;
}

export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  { attempts = 100, intervalMs = 100 } = {},
): Promise<T> {
  let value = await probe();
  for (let i = 1; i < attempts && !accept(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await probe();
  }
  return value;
}
