import { createRoute, z } from '@hono/zod-openapi';
import { openGitHubAppState } from '../../core/github-app';
import { rsaPrivateKeyToPkcs8 } from '../../core/pem';
import { roleAtLeast } from '../../core/roles';
import { encryptSecret } from '../../core/secret-box';
import { saveGitHubApp } from '../../domain/github-app/apps';
import { convertManifestCode } from '../../domain/github-app/github-api';
import { membershipRole } from '../../domain/members/members';
import { ApiError } from '../../platform/errors';
import { auditFor } from '../audit';
import { openApiErrorResponses } from '../errors';
import { newRouter } from '../router';

const CallbackQuery = z.object({
  code: z.string().min(1).max(200),
  state: z.string().min(1).max(1000),
});

/**
 * `/api/github-app/callback`: where GitHub sends the browser after creating the app from the
 * manifest. Public: the sealed state (workspace, admin, expiry) is the credential, the code is
 * GitHub's one-hour, single-use conversion code.
 */
export const githubAppCallbackApp = newRouter();

githubAppCallbackApp.openapi(
  createRoute({
    method: 'get',
    path: '/callback',
    tags: ['github-app'],
    summary: 'Where GitHub redirects after creating the app: stores it and redirects',
    description:
      'Checks the sealed state (issued by `POST /api/workspaces/{id}/github-app/manifest` to a ' +
      'workspace admin, one hour), exchanges the code at GitHub for the app’s id and ' +
      'credentials, stores the private key, webhook secret and client secret sealed with ' +
      'ENCRYPTION_KEY, audits `workspace.github_app_connected`, and redirects to the new ' +
      'project page. A bad or expired state is 400.',
    request: { query: CallbackQuery },
    responses: {
      302: {
        description: 'To the dashboard',
        headers: z.object({ Location: z.string() }),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { code, state } = c.req.valid('query');
    const { db, config } = c.get('services');
    const opened = await openGitHubAppState(config.ENCRYPTION_KEY, state);
    if (!opened) {
      throw new ApiError('validation_failed', 'The state is invalid or expired; start again');
    }
    // The admin may have lost the role during the hour the state lives.
    const role = await membershipRole(db(), opened.workspaceId, opened.userId);
    if (!role || !roleAtLeast(role, 'admin')) {
      throw new ApiError('forbidden', 'The state’s issuer is no longer an admin of the workspace');
    }
    const app = await convertManifestCode(
      {
        apiBase: config.GITHUB_API_BASE_URL ?? 'https://api.github.com',
        fetch: (...args) => fetch(...args),
      },
      code,
    );
    const key = config.ENCRYPTION_KEY;
    await saveGitHubApp(
      db(),
      {
        workspaceId: opened.workspaceId,
        appId: app.id,
        slug: app.slug,
        htmlUrl: app.html_url,
        clientId: app.client_id,
        clientSecretEncrypted: await encryptSecret(key, app.client_secret),
        // GitHub hands over PKCS#1; reporting signs its JWTs with a PKCS#8 key (jose).
        privateKeyEncrypted: await encryptSecret(key, rsaPrivateKeyToPkcs8(app.pem)),
        webhookSecretEncrypted: await encryptSecret(key, app.webhook_secret),
        createdBy: opened.userId,
      },
      (tx, entry) => auditFor(c)(tx, { ...entry, actorId: opened.userId, actorRole: role }),
    );
    const base = config.PUBLIC_URL.replace(/\/$/, '');
    return c.redirect(`${base}/w/${opened.workspaceId}/projects/new?github_app=connected`, 302);
  },
);
