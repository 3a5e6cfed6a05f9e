import type { DeployConfig } from '../../core/deploy/config';
import { outboundFetch } from '../../core/outbound-url';
import type { Deployment, Environment, Project } from '../../db/schema';
import { outboundPolicy } from '../../platform/config';
import type { TaskContext } from '../../platform/services';
import { ensureHostLabel, productionUrl } from '../hosting/host-label';
import { siteFetch } from '../hosting/site-host';
import {
  type DeployAdapter,
  deployAdapter,
  EDGE,
  type Fetch,
  type ProviderId,
  type Target,
} from './adapters';
import { edgeAdapter } from './adapters/edge';
import { environmentCredentials } from './credentials';

/** Where a deployment goes: its platform's adapter, and the target handed to it. */
export interface Placement {
  adapter: DeployAdapter;
  target: Target;
  /**
   * Where production visitors reach the environment, when that is not the deployment's own URL
   * (the edge host's project host): each share of production traffic is judged there.
   */
  productionUrl?: string;
}

/**
 * The edge host is set up from the environment and its project (which gets its host name on its
 * first deployment) and answers its health checks in-process; a provider's target is the
 * environment's adapter settings and decrypted credentials, reached through `fetch`.
 */
export async function placementOf(
  context: TaskContext,
  deployment: Deployment,
  loaded: { environment: Environment; project: Project; config: DeployConfig },
  fetch: Fetch,
): Promise<Placement> {
  const { environment, project, config } = loaded;
  const db = context.services.db();
  if (deployment.platform === EDGE) {
    const hostLabel = await ensureHostLabel(db, project.id);
    return {
      adapter: edgeAdapter(context.env, context.logger),
      target: {
        config: {
          environmentId: environment.id,
          workspaceId: project.workspaceId,
          hostLabel,
          spa: config.spa,
        },
        credentials: {},
        fetch: siteFetch(context.env),
        db,
      },
      productionUrl: productionUrl(context.env, hostLabel),
    };
  }
  return {
    adapter: deployAdapter(deployment.platform as ProviderId),
    target: {
      config: environment.deployConfig.adapter,
      credentials: await environmentCredentials(
        context.services.config.ENCRYPTION_KEY,
        environment,
      ),
      // Checked again when sent: settings stored before the check, or under a laxer configuration.
      fetch: outboundFetch(fetch, outboundPolicy(context.services.config)),
      db,
    },
  };
}
