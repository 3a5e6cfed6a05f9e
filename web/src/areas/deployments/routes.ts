import { appLayout } from '../../routes/base';
import { placeholder } from '../../routes/placeholder';
import { projectRoute } from '../../routes/project';

export const appRoutes = [
  placeholder(appLayout, '/deployments/$deploymentId', 'Deployment'),
] as const;
export const projectRoutes = [
  placeholder(projectRoute, '/deployments', 'Deployments'),
  placeholder(projectRoute, '/environments', 'Environments'),
  placeholder(projectRoute, '/domains', 'Domains'),
] as const;
