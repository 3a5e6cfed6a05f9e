import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { checkOutboundUrl } from '../../../core/outbound-url';
import {
  createTarget,
  findTarget,
  removeTarget,
  targetsOf,
  updateTarget,
} from '../../../domain/notifications/targets';
import { outboundPolicy } from '../../../platform/config';
import { randomSecret } from '../../../platform/crypto';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeProject } from '../../auth/authorize';
import type { HonoEnv } from '../../context';
import { openApiErrorResponses } from '../../errors';
import { skipIdempotencyStorage } from '../../middleware/idempotency';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import {
  CreatedTargetSchema,
  CreateTargetSchema,
  NotificationTargetSchema,
  TargetParams,
  toTarget,
  UpdateTargetSchema,
} from './notification-schemas';
import { ProjectParams } from './schemas';

const TAG = 'notifications';

/** The project's target, for an admin of its workspace; anything else is 404 or 403. */
export async function loadTarget(c: Context<HonoEnv>, projectId: string, targetId: string) {
  const access = await authorizeProject(c, projectId, 'admin');
  const target = await findTarget(c.get('services').db(), projectId, targetId);
  if (!target) throw new ApiError('not_found', 'Notification target not found');
  return { access, target };
}

/** `/api/projects/{id}/notification-targets`: where the project's events are sent. */
export const notificationTargetRoutes = newRouter();

notificationTargetRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/notification-targets',
    tags: [TAG],
    summary: 'Notification targets of a project (admin)',
    request: { params: ProjectParams },
    responses: {
      200: {
        description: 'Targets',
        ...json(z.object({ targets: z.array(NotificationTargetSchema) })),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeProject(c, id, 'admin');
    const rows = await targetsOf(c.get('services').db(), id);
    return c.json({ targets: rows.map(toTarget) }, 200);
  },
);

notificationTargetRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/notification-targets',
    tags: [TAG],
    summary: 'Send the project’s events to a webhook, Slack or Discord (admin)',
    description:
      'A `webhook` target gets a signing secret, returned only in this answer: verify each ' +
      'delivery’s `Sparki-Signature` with it (docs/notifications.md). A URL that is not https, ' +
      'or points at a loopback, private or link-local address, is a 400 (the local stack ' +
      'accepts http:// on a loopback host). Audited as `notification_target.created`.',
    request: { params: ProjectParams, ...jsonBody(CreateTargetSchema) },
    responses: {
      201: { description: 'Created', ...json(CreatedTargetSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeProject(c, id, 'admin');
    const { db, config } = c.get('services');
    const checked = checkOutboundUrl(input.url, outboundPolicy(config));
    if (!checked.ok) {
      throw new ApiError('validation_failed', 'The URL is not allowed', {
        fields: [{ path: 'url', message: checked.message, code: 'custom' }],
      });
    }
    const secret = input.kind === 'webhook' ? randomSecret('nsec_') : undefined;
    // The answer carries the secret; it must not sit in the idempotency store.
    if (secret) skipIdempotencyStorage(c);
    const row = await createTarget(
      db(),
      config.ENCRYPTION_KEY,
      id,
      { kind: input.kind, name: input.name, url: checked.url, events: input.events, secret },
      auditFor(c, access),
    );
    return c.json({ target: toTarget(row), secret: secret ?? null }, 201);
  },
);

notificationTargetRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/{id}/notification-targets/{target_id}',
    tags: [TAG],
    summary: 'Rename a target, change its events, or pause it (admin)',
    description:
      'The URL and secret cannot change: add a new target and delete this one. Audited as ' +
      '`notification_target.updated`.',
    request: {
      params: TargetParams,
      ...jsonBody(UpdateTargetSchema),
    },
    responses: {
      200: { description: 'Updated', ...json(NotificationTargetSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, target_id } = c.req.valid('param');
    const input = c.req.valid('json');
    const { access, target } = await loadTarget(c, id, target_id);
    const row = await updateTarget(c.get('services').db(), target, input, auditFor(c, access));
    if (!row) throw new ApiError('not_found', 'Notification target not found');
    return c.json(toTarget(row), 200);
  },
);

notificationTargetRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}/notification-targets/{target_id}',
    tags: [TAG],
    summary: 'Delete a target and its delivery log (admin)',
    description: 'Attempts still queued are dropped. Audited as `notification_target.deleted`.',
    request: { params: TargetParams },
    responses: {
      200: { description: 'Deleted', ...json(z.object({ status: z.literal('deleted') })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, target_id } = c.req.valid('param');
    const { access, target } = await loadTarget(c, id, target_id);
    if (!(await removeTarget(c.get('services').db(), target, auditFor(c, access)))) {
      throw new ApiError('not_found', 'Notification target not found');
    }
    return c.json({ status: 'deleted' as const }, 200);
  },
);
