import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { DEPLOYMENT_STATES } from '../../../core/deploy/state-machine';
import type { Role } from '../../../core/roles';
import {
  cancelQueuedDeployment,
  deploymentInContext,
  findDeployment,
  queueDeployment,
  transitionsOf,
} from '../../../domain/deployments/queries';
import { environmentOfKind } from '../../../domain/environments/environments';
import { recordDeploymentEnd } from '../../../domain/metrics/record';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { loadResource } from '../../auth/authorize';
import type { HonoEnv } from '../../context';
import { openApiErrorResponses } from '../../errors';
import { json } from '../../openapi';
import { authenticated, newRouter } from '../../router';
import { DeploymentItemSchema, DeploymentSchema, toDeployment, toDeploymentItem } from './schemas';

const TransitionSchema = z
  .object({
    from: z.enum(DEPLOYMENT_STATES).nullable(),
    to: z.enum(DEPLOYMENT_STATES),
    reason: z.string().nullable(),
    at: z.iso.datetime(),
  })
  .openapi('DeploymentTransition');

const DeploymentDetailSchema = DeploymentItemSchema.extend({
  transitions: z.array(TransitionSchema),
  health_results: z.array(z.unknown()),
}).openapi('DeploymentDetail');

const DeploymentParams = z.object({ id: z.uuid() });

const loadDeployment = (c: Context<HonoEnv>, id: string, minimum: Role) =>
  loadResource(c, 'Deployment', (db) => findDeployment(db, id), minimum);

const deploymentRoutes = newRouter();

deploymentRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    tags: ['deployments'],
    summary:
      'One deployment with its build, environment, state transitions and health check results',
    request: { params: DeploymentParams },
    responses: {
      200: { description: 'The deployment', ...json(DeploymentDetailSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { row } = await loadDeployment(c, id, 'viewer');
    const db = c.get('services').db();
    const [transitions, inContext] = await Promise.all([
      transitionsOf(db, id),
      deploymentInContext(db, id),
    ]);
    if (!inContext) throw new ApiError('not_found', 'Deployment not found');
    return c.json(
      {
        ...toDeploymentItem(inContext),
        transitions: transitions.map((t) => ({
          from: t.fromStatus,
          to: t.toStatus,
          reason: t.reason,
          at: t.at.toISOString(),
        })),
        health_results: row.healthResults,
      },
      200,
    );
  },
);

deploymentRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/promote',
    tags: ['deployments'],
    summary: 'Promote a live deployment to production without rebuilding (developer)',
    description:
      'On the edge host the same files go live. On an external platform whose adapter promotes ' +
      'natively (Cloudflare Workers, Vercel, the signed webhook), when the promoted deployment ' +
      'ran on the same adapter and target as production, the provider switches production to ' +
      'that deployment; otherwise the build is deployed to production again. The reason of the ' +
      'new deployment’s move to `deploying` says which happened.',
    request: { params: DeploymentParams },
    responses: {
      202: { description: 'Queued', ...json(DeploymentSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { row: source, access } = await loadDeployment(c, id, 'developer');
    if (source.status !== 'live' || (source.platform === 'edge' && !source.manifestKey)) {
      throw new ApiError('conflict', 'Only a live deployment can be promoted');
    }
    const db = c.get('services').db();
    const production = await environmentOfKind(db, source.projectId, 'production');
    if (!production) throw new ApiError('not_found', 'The project has no production environment');
    // Nothing is built again: on the edge host the manifest is reused; on an external platform
    // the engine promotes the provider's deployment, or deploys the same build.
    const request = {
      requestKey: `promote:${crypto.randomUUID()}`,
      buildId: source.buildId,
      projectId: source.projectId,
      environmentId: production.id,
      stage: 'production' as const,
      strategy: production.strategy,
      manifestKey: production.deployTarget === 'edge' ? source.manifestKey : null,
      promotedFromId: source.id,
    };
    const deployment = await queueDeployment(
      c.env,
      db,
      request,
      auditFor(c, access),
      'deployment.promoted',
      { from: source.id },
    );
    return c.json(toDeployment(deployment), 202);
  },
);

deploymentRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/cancel',
    tags: ['deployments'],
    summary: 'Cancel a deployment that has not started (developer)',
    request: { params: DeploymentParams },
    responses: {
      200: { description: 'Canceled', ...json(DeploymentSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { row, access } = await loadDeployment(c, id, 'developer');
    const db = c.get('services').db();
    const canceled = await cancelQueuedDeployment(db, id, auditFor(c, access));
    if (!canceled.ok) {
      throw new ApiError(
        'conflict',
        `A ${canceled.status ?? row.status} deployment cannot be canceled`,
      );
    }
    await recordDeploymentEnd(db, c.get('services').metrics, canceled.deployment);
    return c.json(toDeployment(canceled.deployment), 200);
  },
);

/** `/api/deployments/{id}`: one deployment, promoting and canceling it. */
export const deploymentsApp = authenticated(deploymentRoutes);
