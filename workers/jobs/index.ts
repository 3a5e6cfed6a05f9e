import { resource } from '../router';
import { jobCommitRoutes } from './commit-route';
import { jobDetectionRoutes } from './detection-route';
import { outputRoutes } from './output-routes';
import { jobRoutes } from './routes';
import { jobTraceRoutes } from './trace-route';

/**
 * `/api/jobs`, public: the runner holding a build's lease proves it with that build's job token
 * (`authorizeJob`), never as a user.
 */
export const jobsApp = resource(
  jobRoutes,
  jobCommitRoutes,
  jobDetectionRoutes,
  outputRoutes,
  jobTraceRoutes,
);
