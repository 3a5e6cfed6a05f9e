import { authenticated } from '../../router';
import { buildRoutes } from './builds';
import { buildDeployRoutes } from './deploy';
import { buildLogRoutes } from './logs';
import { buildTimelineRoutes } from './timeline';

/** `/api/builds`: one build, its log, its timeline, and deploying it. */
export const buildsApp = authenticated(
  buildRoutes,
  buildLogRoutes,
  buildTimelineRoutes,
  buildDeployRoutes,
);
