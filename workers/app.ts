import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { ApiError } from '../platform/errors';
import { artifactsApp } from './api/artifacts';
import { buildsApp } from './api/builds';
import { deploymentsApp } from './api/deployments/deployments';
import { environmentsApp } from './api/environments';
import { projectsApp } from './api/projects';
import { runnerGatewayApp } from './api/runners/gateway';
import { runnersApp } from './api/runners/runners';
import { workspacesApp } from './api/workspaces';
import { invitesApp } from './api/workspaces/invites';
import { signInApp } from './auth';
import { deviceApprovalApp } from './auth/device-routes';
import { meApp } from './auth/me';
import { sessionsApp } from './auth/session-routes';
import { wellKnownApp } from './auth/well-known';
import { wsTicketsApp } from './auth/ws-tickets';
import { devApp } from './dev-routes';
import { handleError, handleNotFound } from './errors';
import { githubAppCallbackApp } from './github-app/callback';
import { githubAppWebhookApp } from './github-app/webhook';
import { livenessRoutes, readinessRoutes } from './health/routes';
import { edgeHost } from './hosting/routes';
import { jobsApp } from './jobs';
import {
  BLOB_BATCH_MAX_BYTES,
  isBlobBatch,
  isBlobUpload,
  isOutputList,
  OUTPUT_LIST_MAX_BYTES,
} from './jobs/output-routes';
import { isArtifactUpload } from './jobs/routes';
import { metricsApp } from './metrics/routes';
import { observe } from './middleware/observe';
import { services } from './middleware/services';
import { trace } from './middleware/trace';
import { apiDocsPages } from './pages/api-docs';
import { newRouter } from './router';
import { countDeliveries } from './webhooks/delivery-metrics';
import { webhooksApp } from './webhooks/routes';

export const API_BODY_LIMIT_BYTES = 1024 * 1024;

function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError('payload_too_large', `Request body exceeds ${maxSize} bytes`);
    },
  });
}

/**
 * The platform app: ids, logs and errors first, then what must answer even when configuration is
 * broken (liveness, the API description), then everything that needs services: one sub-app per
 * resource, mounted under its prefix. Whether a route needs a signed-in caller is a property of
 * its sub-app (`authenticated(…)` in workers/router.ts), not of the order of the mounts below.
 */
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

  const apiBodyLimit = limitBody(API_BODY_LIMIT_BYTES);
  const outputListLimit = limitBody(OUTPUT_LIST_MAX_BYTES);
  const blobBatchLimit = limitBody(BLOB_BATCH_MAX_BYTES);
  app.use('/api/*', (c, next) => {
    // Uploads stream to R2 and check their own Content-Length.
    if (isArtifactUpload(c.req.path) || isBlobUpload(c.req.path)) return next();
    if (isBlobBatch(c.req.path)) return blobBatchLimit(c, next);
    return (isOutputList(c.req.path) ? outputListLimit : apiBodyLimit)(c, next);
  });
  app.use('*', services());
  app.use('*', trace());
  app.route('/', readinessRoutes);
  app.route('/', metricsApp);

  // Public: each proves itself its own way (webhook secret, runner and job tokens, a signed
  // link, the credentials of a sign-in), or needs no proof.
  // Before `/webhooks/{provider}`, which would take `github-app` for a provider.
  app.use('/webhooks/*', countDeliveries());
  app.route('/webhooks/github-app', githubAppWebhookApp);
  app.route('/webhooks', webhooksApp);
  app.route('/api/runners', runnerGatewayApp);
  app.route('/api/jobs', jobsApp);
  app.route('/api/artifacts', artifactsApp);
  app.route('/api/auth', signInApp);
  app.route('/api/github-app', githubAppCallbackApp);
  app.route('/.well-known', wellKnownApp);
  app.route('/dev', devApp);

  // Authenticated: user sessions and personal access tokens, with quota and Idempotency-Key.
  app.route('/api/auth', sessionsApp);
  app.route('/api/auth', deviceApprovalApp);
  app.route('/api/me', meApp);
  app.route('/api/ws-tickets', wsTicketsApp);
  app.route('/api/invites', invitesApp);
  app.route('/api/workspaces', workspacesApp);
  app.route('/api/projects', projectsApp);
  app.route('/api/builds', buildsApp);
  app.route('/api/deployments', deploymentsApp);
  app.route('/api/environments', environmentsApp);
  app.route('/api/runners', runnersApp);
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
  app.route('/', apiDocsPages);
}
