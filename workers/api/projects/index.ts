import { authenticated } from '../../router';
import { projectBuildRoutes } from './builds';
import { projectDeploymentRoutes } from './deployments';
import { projectDomainRoutes } from './domains';
import { projectDoraRoutes } from './dora';
import { projectEnvironmentRoutes } from './environments';
import { gitHookRoutes } from './git-hook';
import { gitReportingRoutes } from './git-reporting';
import { notificationDeliveryRoutes } from './notification-deliveries';
import { notificationTargetRoutes } from './notification-targets';
import { projectPollingRoutes } from './polling';
import { projectRoutes } from './projects';
import { projectSettingsRoutes } from './settings';
import { projectUploadRoutes } from './uploads';
import { webhookSecretRoutes } from './webhook-secret';

/** `/api/projects`: a project and everything under `/api/projects/{id}/…`. */
export const projectsApp = authenticated(
  projectRoutes,
  projectSettingsRoutes,
  gitReportingRoutes,
  gitHookRoutes,
  projectEnvironmentRoutes,
  projectBuildRoutes,
  projectDeploymentRoutes,
  webhookSecretRoutes,
  projectDomainRoutes,
  projectPollingRoutes,
  projectUploadRoutes,
  projectDoraRoutes,
  notificationTargetRoutes,
  notificationDeliveryRoutes,
);
