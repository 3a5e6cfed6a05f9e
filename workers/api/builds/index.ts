import { authenticated } from '../../router';
import { buildRoutes } from './builds';
import { buildDeployRoutes } from './deploy';
import { buildLogRoutes } from './logs';

/** `/api/builds`: one build, its log, and deploying it. */
export const buildsApp = authenticated(buildRoutes, buildLogRoutes, buildDeployRoutes);
