import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database, Transaction } from '../../../db/client';
import { builds, deployments, environments } from '../../../db/schema';
import type { Logger } from '../../../platform/logger';
import { deploymentUrl } from '../../hosting/host-label';
import { publishArtifact, publishOutputManifest } from '../../hosting/publish';
import { schemaProblems } from './adapter';
import { type DeployAdapter, EDGE, STRATEGIES, type Target } from './types';

/** Set by the engine for each deployment, from the environment and its project. */
const configSchema = z.object({
  /** The environment whose pointers say what its production hosts serve. */
  environmentId: z.uuid(),
  /** Recorded as holding the blobs a deployment publishes. */
  workspaceId: z.uuid(),
  /** The project's name under the hosting domain. */
  hostLabel: z.string().min(1),
  /** Serve /index.html for unknown paths. */
  spa: z.boolean(),
});
type EdgeConfig = z.infer<typeof configSchema>;

function records(target: Target): { config: EdgeConfig; db: Database | Transaction } {
  if (!target.db) throw new Error('The edge host keeps what it serves in Sparki’s database');
  return { config: configSchema.parse(target.config), db: target.db };
}

/** Gives `deploymentId` `percent` of the environment's production visitors; all of them make it live. */
async function serve(target: Target, deploymentId: string, percent: number) {
  const { config, db } = records(target);
  await db
    .update(environments)
    .set(
      percent >= 100
        ? { liveDeploymentId: deploymentId, canaryDeploymentId: null, canaryPercent: 0 }
        : { canaryDeploymentId: deploymentId, canaryPercent: percent },
    )
    .where(eq(environments.id, config.environmentId));
}

/**
 * The built-in edge host as a deploy adapter. `deploy` publishes the build output to the SITES
 * bucket (content-addressed blobs and the deployment's manifest), after which it serves at the
 * deployment's own host and nowhere else; production traffic moves only by the environment's
 * pointers (the live deployment, and a canary with its share), so `promote` and `rollback` are
 * pointer switches, instant and uploading nothing.
 */
export function edgeAdapter(env: Env, logger: Logger): DeployAdapter {
  return {
    id: EDGE,
    name: 'Edge host',
    docsUrl: 'docs/deployments.md#the-edge-host',
    capabilities: {
      strategies: STRATEGIES,
      promote: 'native',
      rollback: 'native',
      traffic: 'promote',
      image: 'unused',
    },
    configSchema,
    credentialsSchema: z.object({}),
    // Each environment has its own pointers: no two share a deployment.
    targetKey: (config) => configSchema.safeParse(config).data?.environmentId,
    validate(config, _credentials, artifact) {
      const problems = schemaProblems('config', configSchema, config);
      if (!artifact.files?.length) {
        problems.push({ field: 'artifact.files', message: 'the build produced no output' });
      }
      return problems;
    },
    async deploy(target, request) {
      const { config, db } = records(target);
      const [row] = await db
        .select({
          label: deployments.label,
          manifestKey: deployments.manifestKey,
          outputManifestKey: builds.outputManifestKey,
          artifactKey: builds.artifactKey,
        })
        .from(deployments)
        .innerJoin(builds, eq(builds.id, deployments.buildId))
        .where(eq(deployments.id, request.deploymentId));
      if (!row) throw new Error(`Deployment ${request.deploymentId} is gone`);
      // A promotion serves the files its source published: nothing is uploaded again.
      if (!row.manifestKey) {
        const options = { spa: config.spa, workspaceId: config.workspaceId };
        const published = row.outputManifestKey
          ? await publishOutputManifest(
              env,
              db,
              row.outputManifestKey,
              request.deploymentId,
              options,
            )
          : await publishArtifact(env, db, row.artifactKey!, request.deploymentId, options);
        logger.info('deployment_published', { deployment_id: request.deploymentId, ...published });
        await db
          .update(deployments)
          .set({ manifestKey: published.manifestKey })
          .where(eq(deployments.id, request.deploymentId));
      }
      return { id: request.deploymentId, url: deploymentUrl(env, row.label, config.hostLabel) };
    },
    // Published is served: there is nothing to wait for.
    async status(_target, ref) {
      return { state: 'ready', url: ref.url };
    },
    async promote(target, ref, percent = 100) {
      await serve(target, ref.id, percent);
    },
    async rollback(target, to) {
      await serve(target, to.id, 100);
      return to;
    },
  };
}
