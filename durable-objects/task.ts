import type { Logger } from '../platform/logger';
import { createServices, type TaskContext } from '../platform/services';

/** Runs work that needs the platform's services (Postgres, config) and closes them after. */
export async function runTask<T>(
  env: Env,
  logger: Logger,
  task: (context: TaskContext) => Promise<T>,
): Promise<T> {
  const scoped = createServices(env);
  try {
    return await task({ env, services: scoped.services, logger });
  } finally {
    await scoped.close();
  }
}
