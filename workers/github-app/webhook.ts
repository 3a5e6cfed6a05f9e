import { createRoute, z } from '@hono/zod-openapi';
import { decryptSecret } from '../../core/secret-box';
import { verifyWebhookSignature } from '../../core/webhooks/signatures';
import { githubAppById } from '../../domain/github-app/apps';
import {
  addReachable,
  type ReachableRepository,
  removeInstallation,
  removeReachable,
  workspaceProjectsOf,
} from '../../domain/github-app/repositories';
import { ApiError } from '../../platform/errors';
import { errorResponse, openApiErrorResponses } from '../errors';
import { rateLimit } from '../middleware/rate-limit';
import { json } from '../openapi';
import { newRouter } from '../router';
import { deliveryText, parseDelivery, readCappedBody, repositoryUrls } from '../webhooks/body';
import { DeliveryResultSchema, deliveryOf, processDelivery } from '../webhooks/routes';

const RepositorySchema = z.object({ full_name: z.string().min(3).max(200), private: z.boolean() });
const InstallationSchema = z.object({
  action: z.string(),
  installation: z.object({ id: z.number().int() }),
  repositories: z.array(RepositorySchema).optional(),
  repositories_added: z.array(RepositorySchema).optional(),
  repositories_removed: z.array(RepositorySchema).optional(),
});

function unauthorized(reason: string): ApiError {
  return new ApiError('unauthorized', 'The webhook signature or token did not verify', { reason });
}

/**
 * `/webhooks/github-app`: the one webhook URL of every workspace's GitHub App. GitHub names the
 * app in `X-GitHub-Hook-Installation-Target-ID`; its webhook secret verifies the body.
 */
export const githubAppWebhookApp = newRouter();

githubAppWebhookApp.openapi(
  createRoute({
    method: 'post',
    path: '/',
    tags: ['webhooks', 'github-app'],
    summary: 'Receive a delivery of a workspace’s GitHub App',
    description:
      'Verified with the app’s webhook secret (`X-Hub-Signature-256`) on the raw body; the app ' +
      'is the one `X-GitHub-Hook-Installation-Target-ID` names. `installation` and ' +
      '`installation_repositories` keep the repositories the app reaches; `push` and ' +
      '`pull_request` go to the workspace’s project building that repository, through the same ' +
      'pipeline as `/webhooks/github` (dedupe by delivery id, builds). See docs/github-app.md.',
    middleware: [rateLimit('webhook')] as const,
    responses: {
      200: { description: '`pong`, `recorded` or `duplicate`', ...json(DeliveryResultSchema) },
      202: { description: '`queued` or `ignored`', ...json(DeliveryResultSchema) },
      400: errorResponse('Delivery headers missing, or a body that is not the event’s payload'),
      401: errorResponse('Signature missing or not matching, or no app named'),
      404: errorResponse('No app with this id'),
      413: errorResponse('Body over 25 MB'),
      429: errorResponse('Too many deliveries'),
      500: openApiErrorResponses[500],
    },
  }),
  async (c) => {
    const body = await readCappedBody(c.req.raw);
    const target = c.req.header('x-github-hook-installation-target-id') ?? '';
    if (!/^\d{1,15}$/.test(target)) throw unauthorized('missing');
    const { db, config } = c.get('services');
    const app = await githubAppById(db(), Number(target));
    if (!app) throw new ApiError('not_found', 'No GitHub App with this id');
    const secret = await decryptSecret(config.ENCRYPTION_KEY, app.webhookSecretEncrypted);
    const failure = await verifyWebhookSignature('github', secret, body, c.req.raw.headers);
    if (failure) throw unauthorized(failure);
    const delivery = deliveryOf('github', c.req.raw.headers);
    const text = deliveryText(body, c.req.header('content-type'));
    const base = { delivery_id: delivery.id };

    if (delivery.event === 'installation' || delivery.event === 'installation_repositories') {
      const parsed = InstallationSchema.safeParse(parseDelivery(text));
      if (!parsed.success) {
        throw new ApiError('validation_failed', `Not an ${delivery.event} payload`);
      }
      const event = parsed.data;
      const web = (config.GITHUB_OAUTH_BASE_URL ?? 'https://github.com').replace(/\/$/, '');
      const reachable = (repos: z.infer<typeof RepositorySchema>[] = []): ReachableRepository[] =>
        repos.map((repo) => ({
          fullName: repo.full_name,
          cloneUrl: `${web}/${repo.full_name}.git`,
          isPrivate: repo.private,
        }));
      const installationId = event.installation.id;
      if (delivery.event === 'installation') {
        if (event.action === 'deleted' || event.action === 'suspend') {
          await removeInstallation(db(), app.workspaceId, installationId);
        } else {
          await addReachable(db(), app.workspaceId, installationId, reachable(event.repositories));
        }
      } else {
        await addReachable(
          db(),
          app.workspaceId,
          installationId,
          reachable(event.repositories_added),
        );
        await removeReachable(
          db(),
          app.workspaceId,
          installationId,
          (event.repositories_removed ?? []).map((repo) => repo.full_name),
        );
      }
      return c.json({ ...base, status: 'recorded' as const, reason: event.action }, 200);
    }

    if (delivery.event === 'ping') return c.json({ ...base, status: 'pong' as const }, 200);
    if (delivery.event !== 'push' && delivery.event !== 'pull_request') {
      return c.json(
        { ...base, status: 'ignored' as const, reason: `${delivery.event} is not handled` },
        202,
      );
    }
    const [project] = await workspaceProjectsOf(
      db(),
      app.workspaceId,
      repositoryUrls('github', text),
    );
    if (!project) {
      return c.json(
        { ...base, status: 'ignored' as const, reason: 'no project builds this repository' },
        202,
      );
    }
    return processDelivery(c, 'github', delivery, body, text, project);
  },
);
