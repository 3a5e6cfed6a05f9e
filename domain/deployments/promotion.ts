import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { type Deployment, deployments, type Environment, environments } from '../../db/schema';
import type { DeployAdapter, ProviderRef } from './adapters';

export interface Promotion {
  /** Set when the provider switches production to the promoted deployment itself. */
  nativeRef?: ProviderRef;
  /** Which of the two happened and why, kept as the reason of the move to `deploying`. */
  reason: string;
}

/**
 * How a promoted deployment reaches production. When the promoted deployment ran on the same
 * adapter and target (e.g. one Vercel project for preview and production) and the provider
 * promotes natively, its provider deployment is switched to; otherwise the build is deployed again.
 * A promotion on the edge host was settled when it was asked for: the new deployment serves the
 * files its source published (`manifest_key`), so there is nothing to choose.
 */
export async function promotionOf(
  db: Database,
  deployment: Deployment,
  environment: Environment,
  adapter: DeployAdapter,
): Promise<Promotion | undefined> {
  const sourceId = deployment.promotedFromId;
  if (!sourceId || deployment.manifestKey) return undefined;
  const redeploy = (why: string) => ({
    reason: `promote of ${sourceId} by redeploying the build: ${why}`,
  });
  const [row] = await db
    .select({ source: deployments, environment: environments })
    .from(deployments)
    .innerJoin(environments, eq(environments.id, deployments.environmentId))
    .where(eq(deployments.id, sourceId));
  if (!row) return redeploy('the promoted deployment is gone');
  const { source } = row;
  if (source.platform !== deployment.platform) {
    return redeploy(`it ran on ${source.platform}, production deploys to ${deployment.platform}`);
  }
  if (adapter.capabilities.promote !== 'native') {
    return redeploy(`${adapter.name} has no native promote`);
  }
  if (source.status !== 'live') return redeploy(`it is ${source.status} now`);
  if (!source.providerRef) return redeploy(`it has no ${adapter.name} deployment`);
  const here = adapter.targetKey(environment.deployConfig.adapter);
  if (!here || here !== adapter.targetKey(row.environment.deployConfig.adapter)) {
    return redeploy(`its environment deploys to another ${adapter.name} target`);
  }
  return {
    nativeRef: source.providerRef,
    reason:
      `native promote of ${sourceId}: ${adapter.name} switches production to its deployment ` +
      `${source.providerRef.id}, nothing is redeployed`,
  };
}

/**
 * The traffic shares production is promoted through once the deployment is up: all of it for a
 * native promotion, or on a platform whose deploy takes no traffic (by the canary's steps for a
 * canary, when something serves the rest); otherwise what the deploy did not take (blue-green,
 * or the steps after a canary's first).
 */
export function promotedShares(
  adapter: DeployAdapter,
  strategy: Deployment['strategy'],
  steps: number[],
  promotion: Promotion | undefined,
  servedBefore: boolean,
): number[] {
  if (promotion?.nativeRef) return strategy === 'canary' ? steps : [100];
  if (adapter.capabilities.traffic === 'promote') {
    return strategy === 'canary' && servedBefore ? steps : [100];
  }
  if (adapter.capabilities.promote !== 'native' || strategy === 'all_at_once') return [];
  return strategy === 'canary' ? steps.slice(1) : [100];
}
