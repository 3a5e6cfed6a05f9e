import { createRoute, z } from '@hono/zod-openapi';
import {
  deliveriesOf,
  deliveryOf,
  redeliver,
  sendTestEvent,
} from '../../../domain/notifications/record';
import { eventProject } from '../../../domain/notifications/sources';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { openApiErrorResponses } from '../../errors';
import { json } from '../../openapi';
import { newRouter } from '../../router';
import {
  DeliveryParams,
  NotificationDeliverySchema,
  TargetParams,
  toDelivery,
} from './notification-schemas';
import { loadTarget } from './notification-targets';

const TAG = 'notifications';

const DeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

/** `/api/projects/{id}/notification-targets/{target_id}/…`: the delivery log, redelivery, tests. */
export const notificationDeliveryRoutes = newRouter();

notificationDeliveryRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/notification-targets/{target_id}/deliveries',
    tags: [TAG],
    summary: 'The target’s delivery log, newest first (admin)',
    description:
      'One row per delivery: its status, attempts so far, and the last attempt’s response ' +
      'code, duration and the start of the receiver’s answer.',
    request: { params: TargetParams, query: DeliveriesQuery },
    responses: {
      200: {
        description: 'Deliveries',
        ...json(z.object({ deliveries: z.array(NotificationDeliverySchema) })),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, target_id } = c.req.valid('param');
    const { limit } = c.req.valid('query');
    const { target } = await loadTarget(c, id, target_id);
    const rows = await deliveriesOf(c.get('services').db(), target.id, limit);
    return c.json({ deliveries: rows.map(toDelivery) }, 200);
  },
);

notificationDeliveryRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/notification-targets/{target_id}/deliveries/{delivery_id}/redeliver',
    tags: [TAG],
    summary: 'Send a delivery’s event again (admin)',
    description:
      'A new delivery of the same event (same `id` in the body, so receivers can tell), with ' +
      'its own attempts and retries; the original keeps its log. Works on a paused target too. ' +
      'Audited as `notification_delivery.redelivered`.',
    request: { params: DeliveryParams },
    responses: {
      202: { description: 'Queued', ...json(NotificationDeliverySchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, target_id, delivery_id } = c.req.valid('param');
    const { access, target } = await loadTarget(c, id, target_id);
    const db = c.get('services').db();
    const original = await deliveryOf(db, target.id, delivery_id);
    if (!original) throw new ApiError('not_found', 'Delivery not found');
    const delivery = await redeliver(c.env, db, target, original, auditFor(c, access));
    return c.json(toDelivery(delivery), 202);
  },
);

notificationDeliveryRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/notification-targets/{target_id}/test',
    tags: [TAG],
    summary: 'Send a `test` event to the target now (admin)',
    description:
      'Whatever events the target subscribes to, and even when paused. The answer is the queued ' +
      'delivery: follow it in the delivery log. Audited as `notification_target.tested`.',
    request: { params: TargetParams },
    responses: {
      202: { description: 'Queued', ...json(NotificationDeliverySchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, target_id } = c.req.valid('param');
    const { access, target } = await loadTarget(c, id, target_id);
    const { db, config } = c.get('services');
    const project = await eventProject(db(), config.PUBLIC_URL, id);
    if (!project) throw new ApiError('not_found', 'Project not found');
    const delivery = await sendTestEvent(c.env, db(), target, project, auditFor(c, access));
    return c.json(toDelivery(delivery), 202);
  },
);
