import { eq, inArray } from 'drizzle-orm';
import { WORKSPACE_CONCURRENT_BUILDS } from '../../core/dispatch';
import { type EffectiveProjectSettings, resolveProjectSettings } from '../../core/project-settings';
import type { Database } from '../../db/client';
import { projects, workspaces } from '../../db/schema';
import type { Logger } from '../../platform/logger';

/** What a runner pool's dispatch must respect, read from the workspace's plan and projects. */
export interface PoolLimits {
  workspaceLimit: number;
  /** A project's own cap (`max_concurrent_builds`); undefined means only the workspace's. */
  projectLimit(projectId: string): number | undefined;
  buildTimeoutMs(projectId: string): number;
}

/** The limits for the projects that have jobs waiting or running in the pool. */
export async function poolLimits(
  db: Database,
  projectIds: readonly string[],
  logger: Logger,
): Promise<PoolLimits> {
  const rows = await db
    .select({ id: projects.id, settings: projects.settings, plan: workspaces.plan })
    .from(projects)
    .innerJoin(workspaces, eq(workspaces.id, projects.workspaceId))
    .where(inArray(projects.id, [...new Set(projectIds)]));
  const settings = new Map<string, EffectiveProjectSettings>();
  for (const row of rows) {
    try {
      settings.set(row.id, resolveProjectSettings(row.settings));
    } catch (error) {
      // Settings that no longer parse must not stall the whole pool: defaults apply.
      logger.warn('project_settings_invalid', { project_id: row.id, error });
      settings.set(row.id, resolveProjectSettings({}));
    }
  }
  return {
    workspaceLimit: WORKSPACE_CONCURRENT_BUILDS[rows[0]?.plan ?? 'free'],
    projectLimit: (projectId) => settings.get(projectId)?.max_concurrent_builds ?? undefined,
    buildTimeoutMs: (projectId) =>
      (settings.get(projectId) ?? resolveProjectSettings({})).build_timeout_ms,
  };
}
