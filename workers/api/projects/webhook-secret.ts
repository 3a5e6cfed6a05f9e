import { createRoute, z } from '@hono/zod-openapi';
import { encryptSecret } from '../../../core/secret-box';
import { replaceWebhookSecret } from '../../../domain/projects/projects';
import { randomSecret } from '../../../platform/crypto';
import { auditFor } from '../../audit';
import { authorizeProject } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { skipIdempotencyStorage } from '../../middleware/idempotency';
import { json } from '../../openapi';
import { newRouter } from '../../router';
import { ProjectParams } from './schemas';

const RotatedSecretSchema = z
  .object({
    webhook_secret: z.string().openapi({
      description: 'Shown once: paste it into the git provider’s webhook settings.',
    }),
  })
  .openapi('RotatedWebhookSecret');

/** `/api/projects/{id}/webhook-secret`: a new secret, for when the one shown at creation is lost. */
export const webhookSecretRoutes = newRouter();

webhookSecretRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/webhook-secret',
    tags: ['projects'],
    summary: 'Replace the webhook secret (admin); the old one stops verifying deliveries at once',
    description:
      'The secret is stored sealed and shown only in this answer (and the one that created the ' +
      'project). Deliveries signed with the previous secret are refused with 401 from now on, ' +
      'so paste the new one into the git provider’s webhook settings (a hook Sparki created on ' +
      'GitLab or Gitea: `POST /api/projects/{id}/git-hook` again). Audited as ' +
      '`project.webhook_secret_rotated`.',
    request: { params: ProjectParams },
    responses: {
      200: { description: 'The new secret', ...json(RotatedSecretSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const access = await authorizeProject(c, id, 'admin');
    const { db, config } = c.get('services');
    const secret = randomSecret('whsec_');
    // The answer carries the secret; it must not sit in the idempotency store.
    skipIdempotencyStorage(c);
    const sealed = await encryptSecret(config.ENCRYPTION_KEY, secret);
    await replaceWebhookSecret(db(), id, sealed, auditFor(c, access));
    return c.json({ webhook_secret: secret }, 200);
  },
);
