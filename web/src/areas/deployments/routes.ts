import { deploymentRoute } from './deployment-page';
import { deploymentsListRoute } from './deployments-list';
import { domainsRoute } from './domains';
import { environmentsRoute } from './environments';

export const appRoutes = [deploymentRoute] as const;
export const projectRoutes = [deploymentsListRoute, environmentsRoute, domainsRoute] as const;
