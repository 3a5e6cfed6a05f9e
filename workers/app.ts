import { Scalar } from '@scalar/hono-api-reference';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { ApiError } from '../platform/errors';
import { artifactRoutes } from './api/artifacts';
import { auditLogRoutes } from './api/audit-log';
import { buildLogRoutes } from './api/build-logs';
import { buildRoutes } from './api/builds';
import { deploymentRoutes } from './api/deployments';
import { environmentDeployRoutes } from './api/environment-deploy';
import { environmentRoutes } from './api/environments';
import { memberRoutes } from './api/members';
import { projectReportingRoutes } from './api/project-reporting';
import { projectSettingsRoutes } from './api/project-settings';
import { projectRoutes } from './api/projects';
import { runnerConnectRoutes, runnerRoutes } from './api/runners';
import { tokenRoutes } from './api/tokens';
import { workspaceRoutes } from './api/workspaces';
import { mfaRoutes } from './auth/mfa-routes';
import { oidcRoutes } from './auth/oidc-routes';
import { authenticate } from './auth/principal';
import { authRoutes } from './auth/routes';
import { wsTicketRoutes } from './auth/ws-tickets';
import { devRoutes } from './dev-routes';
import { handleError, handleNotFound } from './errors';
import { livenessRoutes, readinessRoutes } from './health/routes';
import { edgeHost } from './hosting/routes';
import { jobCommitRoutes } from './jobs/commit-route';
import {
  isBlobUpload,
  isOutputList,
  OUTPUT_LIST_MAX_BYTES,
  outputRoutes,
} from './jobs/output-routes';
import { isArtifactUpload, jobRoutes } from './jobs/routes';
import { idempotency } from './middleware/idempotency';
import { observe } from './middleware/observe';
import { apiQuota } from './middleware/rate-limit';
import { services } from './middleware/services';
import { tokenLinkPages } from './pages/token-links';
import { newRouter } from './router';
import { webhookRoutes } from './webhooks/routes';

export const API_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The platform app: ids, logs and errors first, then what must answer even when configuration is
 * broken (liveness, the API description), then everything that needs services.
 */
function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError('payload_too_large', `Request body exceeds ${maxSize} bytes`);
    },
  });
}

export function newApp() {
  const app = newRouter();
  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(observe());
  app.onError(handleError);
  app.notFound(handleNotFound);
  // Site hosts own every path, /healthz included; the platform's host falls through.
  app.use('*', edgeHost());

  app.route('/', livenessRoutes);
  mountDocs(app);
  // The pages the mailed links open; static, so they answer even before services are set up.
  app.route('/', tokenLinkPages);

  const apiBodyLimit = limitBody(API_BODY_LIMIT_BYTES);
  const outputListLimit = limitBody(OUTPUT_LIST_MAX_BYTES);
  app.use('/api/*', (c, next) => {
    // Uploads stream to R2 and check their own Content-Length.
    if (isArtifactUpload(c.req.path) || isBlobUpload(c.req.path)) return next();
    return (isOutputList(c.req.path) ? outputListLimit : apiBodyLimit)(c, next);
  });
  app.use('*', services());
  app.route('/', readinessRoutes);
  // Runners authenticate with their own tokens (runner token, job token), not as users.
  app.route('/', runnerConnectRoutes);
  app.route('/', jobRoutes);
  app.route('/', jobCommitRoutes);
  app.route('/', outputRoutes);
  // Git providers prove themselves with the project's webhook secret; they never send user auth.
  app.route('/', webhookRoutes);
  // Deploy receivers download build output with a signed, expiring link instead of a login.
  app.route('/', artifactRoutes);
  app.use('*', authenticate());
  app.use('/api/*', apiQuota());
  app.use('/api/*', idempotency());
  app.route('/', authRoutes);
  app.route('/', mfaRoutes);
  app.route('/', tokenRoutes);
  app.route('/', wsTicketRoutes);
  app.route('/', oidcRoutes);
  app.route('/', workspaceRoutes);
  app.route('/', memberRoutes);
  app.route('/', auditLogRoutes);
  app.route('/', projectRoutes);
  app.route('/', deploymentRoutes);
  app.route('/', environmentDeployRoutes);
  app.route('/', projectReportingRoutes);
  app.route('/', projectSettingsRoutes);
  app.route('/', environmentRoutes);
  app.route('/', buildRoutes);
  app.route('/', runnerRoutes);
  app.route('/', buildLogRoutes);
  app.route('/', devRoutes);
  return app;
}

function mountDocs(app: ReturnType<typeof newRouter>) {
  app.doc31('/api/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: {
      title: 'Sparki API',
      version: '0.1.0',
      description: 'Push-to-deploy CI/CD on the edge. Errors share one envelope: `ErrorResponse`.',
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  app.get('/api/docs', Scalar({ url: '/api/openapi.json', pageTitle: 'Sparki API' }));
}
