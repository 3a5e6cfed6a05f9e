import { runnerHub } from '../../platform/durable-objects';
import type { Logger } from '../../platform/logger';

/**
 * A project's repository, provider or polling setting changed, or a project came or went: the
 * workspace's hub sends its connected runners their repositories to poll again. A failure only
 * delays that until a runner connects next.
 */
export async function refreshWatches(env: Env, workspaceId: string, logger: Logger) {
  await runnerHub(env, workspaceId)
    .refreshWatches(workspaceId)
    .catch((error: unknown) => logger.warn('watch_refresh_failed', { error }));
}

/** Asks the runner polling the project to poll it now: its id, or null when none does. */
export function pollNow(env: Env, workspaceId: string, projectId: string): Promise<string | null> {
  return runnerHub(env, workspaceId).pollNow(workspaceId, projectId);
}
