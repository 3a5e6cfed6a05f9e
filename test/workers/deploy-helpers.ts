import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { builds, deployments, type Environment } from '../../db/schema';
import { findDeployment } from '../../domain/deployments/queries';
import { drainEnvironment } from '../../domain/deployments/queue';
import { requestDeployment } from '../../domain/deployments/request';
import type { EngineOptions } from '../../domain/deployments/runner';
import { findEnvironment } from '../../domain/environments/environments';
import { createLogger } from '../../platform/logger';
import { createServices } from '../../platform/services';
import { tarGz } from './tar-fixture';

/** A succeeded build of the project; with `output`, its archive of those files is in R2. */
export async function succeededBuild(
  db: Database,
  build: {
    projectId: string;
    number: number;
    commitSha: string;
    branch?: string | null;
    output?: Record<string, string>;
  },
) {
  const { output, ...values } = build;
  const [row] = await db
    .insert(builds)
    .values({ ...values, trigger: 'push', status: 'succeeded' })
    .returning();
  if (!output) return row!;
  const artifactKey = `builds/${row!.id}/output.tar.gz`;
  await env.ARTIFACTS.put(artifactKey, await tarGz(output));
  await db.update(builds).set({ artifactKey }).where(eq(builds.id, row!.id));
  return { ...row!, artifactKey };
}

/** Canary steps of 20 % and then all traffic, a minute each; health checked once, at once. */
export const CANARY_CONFIG = {
  health_check: { retries: 0, interval_ms: 0 },
  canary_steps: [20, 100],
  canary_interval_seconds: 60,
};

/**
 * Deploys a new build of the project at each call, of `commitSha`, whose output is one page:
 * `html` as its index.
 */
export function siteDeployer(db: Database, projectId: string, commitSha: string) {
  let number = 0;
  return async (
    html: string,
    environment: Pick<Environment, 'id' | 'kind'>,
    strategy?: 'all_at_once' | 'canary',
  ) => {
    const build = await succeededBuild(db, {
      projectId,
      number: ++number,
      commitSha,
      output: { 'index.html': html },
    });
    return requestDeployment(db, {
      requestKey: `test:${build.id}`,
      buildId: build.id,
      projectId,
      environmentId: environment.id,
      stage: environment.kind,
      ...(strategy && { strategy }),
    });
  };
}

/** Runs the environment's queued deployments, as the deployments consumer would. */
export function drain(environmentId: string, options?: EngineOptions) {
  const { services } = createServices(env);
  const context = { env, services, logger: createLogger({}, 'error') };
  return drainEnvironment(context, environmentId, options);
}

export async function deploymentRow(db: Database, id: string) {
  return (await findDeployment(db, id))!;
}

export async function environmentRow(db: Database, id: string) {
  return (await findEnvironment(db, id))!;
}

/** The canary step has served its time. */
export async function elapse(db: Database, deploymentId: string) {
  await db
    .update(deployments)
    .set({ resumeAt: new Date(Date.now() - 1000) })
    .where(eq(deployments.id, deploymentId));
}
