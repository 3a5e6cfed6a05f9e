import { eq } from 'drizzle-orm';
import type { DeployConfig } from '../../core/deploy/config';
import { runHealthCheck } from '../../core/deploy/health';
import type { Database } from '../../db/client';
import { type Deployment, deployments } from '../../db/schema';
import type { Fetch } from './adapters';
import { DeployFailure } from './errors';

/** Runs the environment's health check against a URL, storing each result; throws on failure. */
export function healthChecker(
  db: Database,
  deployment: Deployment,
  config: DeployConfig,
  io: { fetch: Fetch; sleep: (ms: number) => Promise<void> },
) {
  const deps = { ...io, now: () => Date.now() };
  const results: unknown[] = [...deployment.healthResults];
  return async (base: string) => {
    const result = await runHealthCheck(config.health_check, base, deps);
    results.push(result);
    await db
      .update(deployments)
      .set({ healthResults: results })
      .where(eq(deployments.id, deployment.id));
    if (!result.ok) {
      throw new DeployFailure(
        `Health check failed at ${result.url}: ${result.attempts.at(-1)?.reason}`,
      );
    }
  };
}
