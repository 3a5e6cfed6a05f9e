import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, inArray, lt, ne, or } from 'drizzle-orm';
import type { Context } from 'hono';
import { ACTIVE_STATES, canTransition, DEPLOYMENT_STATES } from '../../core/deploy/state-machine';
import type { Transaction } from '../../db/client';
import {
  builds,
  type Deployment,
  deployments,
  deploymentTransitions,
  environments,
  outbox,
} from '../../db/schema';
import { requestDeployment } from '../../domain/deployments/request';
import { lockEnvironment, transitionDeployment } from '../../domain/deployments/transition';
import { publishOutbox } from '../../domain/outbox';
import { ApiError } from '../../platform/errors';
import { DEPLOYMENTS_QUEUE, type DeploymentsMessage } from '../../platform/queues';
import { recordAudit } from '../audit';
import { authorizeProject } from '../auth/authorize';
import type { HonoEnv } from '../context';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';

const StrategySchema = z.enum(['all_at_once', 'blue_green', 'canary']);
const StageSchema = z.enum(['preview', 'production']);

const TransitionSchema = z
  .object({
    from: z.enum(DEPLOYMENT_STATES).nullable(),
    to: z.enum(DEPLOYMENT_STATES),
    reason: z.string().nullable(),
    at: z.iso.datetime(),
  })
  .openapi('DeploymentTransition');

const DeploymentSchema = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    build_id: z.uuid(),
    environment_id: z.uuid(),
    stage: StageSchema,
    strategy: StrategySchema,
    platform: z.string(),
    status: z.enum(DEPLOYMENT_STATES),
    url: z.string().nullable(),
    error: z.string().nullable(),
    canary_percent: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'A canary’s current share of production traffic' }),
    resume_at: z.iso
      .datetime()
      .nullable()
      .openapi({ description: 'A canary step serving until then, before its health check' }),
    rolled_back_from_id: z.uuid().nullable(),
    rolled_back_to_id: z.uuid().nullable(),
    promoted_from_id: z.uuid().nullable().openapi({
      description: 'The deployment this one promotes to production, if it is a promotion',
    }),
    created_at: z.iso.datetime(),
    started_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
  })
  .openapi('Deployment');

const DeploymentDetailSchema = DeploymentSchema.extend({
  transitions: z.array(TransitionSchema),
  health_results: z.array(z.unknown()),
}).openapi('DeploymentDetail');

const iso = (date: Date | null) => date?.toISOString() ?? null;

function toDeployment(row: Deployment) {
  return {
    id: row.id,
    project_id: row.projectId,
    build_id: row.buildId,
    environment_id: row.environmentId,
    stage: row.stage,
    strategy: row.strategy,
    platform: row.platform,
    status: row.status,
    url: row.url,
    error: row.error,
    canary_percent: row.canaryPercent,
    resume_at: iso(row.resumeAt),
    rolled_back_from_id: row.rolledBackFromId,
    rolled_back_to_id: row.rolledBackToId,
    promoted_from_id: row.promotedFromId,
    created_at: row.createdAt.toISOString(),
    started_at: iso(row.startedAt),
    finished_at: iso(row.finishedAt),
  };
}

const deploymentNotFound = () => new ApiError('not_found', 'Deployment not found');

/** The deployment and the caller's access to its project; outsiders get the same 404 as for none. */
async function loadDeployment(c: Context<HonoEnv>, id: string, minimum: 'viewer' | 'developer') {
  const [row] = await c
    .get('services')
    .db()
    .select()
    .from(deployments)
    .where(eq(deployments.id, id));
  if (!row) throw deploymentNotFound();
  try {
    return { row, access: await authorizeProject(c, row.projectId, minimum) };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'not_found') throw deploymentNotFound();
    throw err;
  }
}

/** Announces queued work to the deploy engine in the same transaction, then sends it. */
async function enqueue(tx: Transaction, environmentId: string) {
  const payload: DeploymentsMessage = {
    type: 'deployment.requested',
    environment_id: environmentId,
  };
  const [row] = await tx.insert(outbox).values({ topic: DEPLOYMENTS_QUEUE, payload }).returning();
  return row!;
}

export const deploymentRoutes = newRouter();

deploymentRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/projects/{id}/deployments',
    tags: ['deployments'],
    summary: 'Deployments of a project, newest first',
    request: {
      params: z.object({ id: z.uuid() }),
      query: z.object({
        stage: StageSchema.optional(),
        status: z
          .enum(DEPLOYMENT_STATES)
          .optional()
          .openapi({ description: 'e.g. `retired`: previews of deleted branches and closed PRs' }),
        before: z.iso
          .datetime()
          .optional()
          .openapi({ description: 'Cursor: `created_at` of the last row seen' }),
        limit: z.coerce.number().int().min(1).max(100).default(20),
      }),
    },
    responses: {
      200: {
        description: 'Deployments',
        ...json(z.object({ deployments: z.array(DeploymentSchema) })),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    await authorizeProject(c, id, 'viewer');
    const rows = await c
      .get('services')
      .db()
      .select()
      .from(deployments)
      .where(
        and(
          eq(deployments.projectId, id),
          query.stage ? eq(deployments.stage, query.stage) : undefined,
          query.status ? eq(deployments.status, query.status) : undefined,
          query.before ? lt(deployments.createdAt, new Date(query.before)) : undefined,
        ),
      )
      .orderBy(desc(deployments.createdAt))
      .limit(query.limit);
    return c.json({ deployments: rows.map(toDeployment) }, 200);
  },
);

deploymentRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/deployments/{id}',
    tags: ['deployments'],
    summary: 'One deployment with its state transitions and health check results',
    request: { params: z.object({ id: z.uuid() }) },
    responses: {
      200: { description: 'The deployment', ...json(DeploymentDetailSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { row } = await loadDeployment(c, id, 'viewer');
    const transitions = await c
      .get('services')
      .db()
      .select()
      .from(deploymentTransitions)
      .where(eq(deploymentTransitions.deploymentId, id))
      .orderBy(deploymentTransitions.at);
    return c.json(
      {
        ...toDeployment(row),
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
    path: '/api/builds/{id}/deploy',
    tags: ['deployments'],
    summary: 'Deploy a successful build to preview or production (developer)',
    request: {
      params: z.object({ id: z.uuid() }),
      ...jsonBody(
        z
          .object({ stage: StageSchema.default('preview'), strategy: StrategySchema.optional() })
          .openapi('DeployBuild'),
      ),
    },
    responses: {
      202: { description: 'Queued', ...json(DeploymentSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const db = c.get('services').db();
    const [build] = await db.select().from(builds).where(eq(builds.id, id));
    if (!build) throw new ApiError('not_found', 'Build not found');
    const access = await authorizeProject(c, build.projectId, 'developer');
    if (build.status !== 'succeeded' || !(build.outputManifestKey ?? build.artifactKey)) {
      throw new ApiError('conflict', 'Only a successful build with output can be deployed');
    }
    const [environment] = await db
      .select()
      .from(environments)
      .where(and(eq(environments.projectId, build.projectId), eq(environments.kind, input.stage)));
    if (!environment)
      throw new ApiError('not_found', `The project has no ${input.stage} environment`);
    const { deployment, message } = await db.transaction(async (tx) => {
      const created = await requestDeployment(tx, {
        requestKey: `api:${crypto.randomUUID()}`,
        buildId: build.id,
        projectId: build.projectId,
        environmentId: environment.id,
        stage: input.stage,
        strategy: input.strategy ?? environment.strategy,
      });
      await recordAudit(tx, c, {
        action: 'deployment.requested',
        workspaceId: access.workspaceId,
        actorRole: access.role,
        targetType: 'deployment',
        targetId: created.id,
        metadata: { build_id: build.id, stage: input.stage },
      });
      return { deployment: created, message: await enqueue(tx, environment.id) };
    });
    await publishOutbox(c.env, db, [message]);
    return c.json(toDeployment(deployment), 202);
  },
);

deploymentRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/deployments/{id}/promote',
    tags: ['deployments'],
    summary: 'Promote a live deployment to production without rebuilding (developer)',
    description:
      'On the edge host the same files go live. On an external platform whose adapter promotes ' +
      'natively (Cloudflare Workers, Vercel, the signed webhook), when the promoted deployment ' +
      'ran on the same adapter and target as production, the provider switches production to ' +
      'that deployment; otherwise the build is deployed to production again. The reason of the ' +
      'new deployment’s move to `deploying` says which happened.',
    request: { params: z.object({ id: z.uuid() }) },
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
    const [production] = await db
      .select()
      .from(environments)
      .where(
        and(eq(environments.projectId, source.projectId), eq(environments.kind, 'production')),
      );
    if (!production) throw new ApiError('not_found', 'The project has no production environment');
    const { deployment, message } = await db.transaction(async (tx) => {
      // Nothing is built again: on the edge host the manifest is reused; on an external platform
      // the engine promotes the provider's deployment, or deploys the same build.
      const created = await requestDeployment(tx, {
        requestKey: `promote:${crypto.randomUUID()}`,
        buildId: source.buildId,
        projectId: source.projectId,
        environmentId: production.id,
        stage: 'production',
        strategy: production.strategy,
        manifestKey: production.deployTarget === 'edge' ? source.manifestKey : null,
        promotedFromId: source.id,
      });
      await recordAudit(tx, c, {
        action: 'deployment.promoted',
        workspaceId: access.workspaceId,
        actorRole: access.role,
        targetType: 'deployment',
        targetId: created.id,
        metadata: { from: source.id },
      });
      return { deployment: created, message: await enqueue(tx, production.id) };
    });
    await publishOutbox(c.env, db, [message]);
    return c.json(toDeployment(deployment), 202);
  },
);

deploymentRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/environments/{id}/rollback',
    tags: ['deployments'],
    summary: 'Serve an earlier live deployment again, at once (developer)',
    description:
      'Without `deployment_id`, goes back to the deployment that was live before the current ' +
      'one; with it, to any deployment of the environment that served before, including one ' +
      'rolled back since. The switch is one pointer update: nothing is uploaded. It takes the ' +
      'deploy engine’s lock on the environment: a deployment in progress there (e.g. a canary ' +
      'step) ends, `rolled_back` once it is being verified, `canceled` before, and its engine ' +
      'stops instead of undoing the rollback.',
    request: {
      params: z.object({ id: z.uuid() }),
      ...jsonBody(z.object({ deployment_id: z.uuid().optional() }).openapi('Rollback')),
    },
    responses: {
      200: { description: 'Rolled back', ...json(DeploymentSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const db = c.get('services').db();
    const [environment] = await db.select().from(environments).where(eq(environments.id, id));
    if (!environment) throw new ApiError('not_found', 'Environment not found');
    const access = await authorizeProject(c, environment.projectId, 'developer');
    const restored = await db.transaction(async (tx) => {
      // The deploy engine's lock: no canary step or other change of what the environment serves
      // interleaves with this, and what this decides is read under it.
      const current = (await lockEnvironment(tx, id))?.liveDeploymentId ?? null;
      const target = await rollbackTarget(tx, id, current, input.deployment_id);
      // The deployment holding the environment's turn ends here (and what served until now is
      // rolled back), so its engine stops at its next step instead of undoing this.
      const ending = await tx
        .select({ id: deployments.id, status: deployments.status })
        .from(deployments)
        .where(
          and(
            eq(deployments.environmentId, id),
            or(
              inArray(deployments.status, ACTIVE_STATES),
              current ? eq(deployments.id, current) : undefined,
            ),
          ),
        )
        .for('update');
      for (const row of ending) {
        const beforeProduction = row.status === 'validating' || row.status === 'deploying';
        if (!beforeProduction && !canTransition(row.status, 'rolled_back')) continue;
        const ended = beforeProduction
          ? await transitionDeployment(tx, row.id, row.status, 'canceled', {
              reason: `canceled by a rollback to ${target.id}`,
            })
          : await transitionDeployment(tx, row.id, row.status, 'rolled_back', {
              reason: `rolled back to ${target.id}`,
              set: { rolledBackToId: target.id },
            });
        if (!ended.ok) throw changedMeanwhile();
      }
      await tx
        .update(environments)
        .set({ liveDeploymentId: target.id, canaryDeploymentId: null, canaryPercent: 0 })
        .where(eq(environments.id, id));
      if (target.status === 'rolled_back') {
        const again = await transitionDeployment(tx, target.id, 'rolled_back', 'live', {
          reason: current ? `rollback from ${current}` : 'rollback',
        });
        if (!again.ok) throw changedMeanwhile();
      }
      const [live] = await tx
        .update(deployments)
        .set({ rolledBackFromId: current })
        .where(eq(deployments.id, target.id))
        .returning();
      await recordAudit(tx, c, {
        action: 'deployment.rolled_back',
        workspaceId: access.workspaceId,
        actorRole: access.role,
        targetType: 'environment',
        targetId: id,
        metadata: {
          automatic: false,
          from: current,
          to: target.id,
          ended: ending.map((row) => row.id).filter((ended) => ended !== current),
        },
      });
      return live!;
    });
    return c.json(toDeployment(restored), 200);
  },
);

const changedMeanwhile = () =>
  new ApiError('conflict', 'The environment’s deployments changed meanwhile; try again');

/**
 * What a rollback goes back to: the one asked for, or the newest live deployment other than the
 * current one. It must have served before (a deployment rolled back for failing its checks never
 * did) and have the edge host's files to serve.
 */
async function rollbackTarget(
  tx: Transaction,
  environmentId: string,
  current: string | null,
  requested: string | undefined,
) {
  const [target] = await tx
    .select()
    .from(deployments)
    .where(
      and(
        eq(deployments.environmentId, environmentId),
        requested
          ? eq(deployments.id, requested)
          : and(eq(deployments.status, 'live'), current ? ne(deployments.id, current) : undefined),
      ),
    )
    .orderBy(desc(deployments.createdAt))
    .limit(1)
    .for('update');
  if (
    !target?.manifestKey ||
    target.id === current ||
    (target.status !== 'live' && target.status !== 'rolled_back')
  ) {
    throw new ApiError('conflict', 'There is no earlier live deployment to go back to');
  }
  if (target.status === 'rolled_back') {
    const [served] = await tx
      .select({ id: deploymentTransitions.id })
      .from(deploymentTransitions)
      .where(
        and(
          eq(deploymentTransitions.deploymentId, target.id),
          eq(deploymentTransitions.toStatus, 'live'),
        ),
      )
      .limit(1);
    if (!served) {
      throw new ApiError(
        'conflict',
        'That deployment never went live; only one that served before can be put back',
      );
    }
  }
  return target;
}

deploymentRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/deployments/{id}/cancel',
    tags: ['deployments'],
    summary: 'Cancel a deployment that has not started (developer)',
    request: { params: z.object({ id: z.uuid() }) },
    responses: {
      200: { description: 'Canceled', ...json(DeploymentSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { row, access } = await loadDeployment(c, id, 'developer');
    const canceled = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const moved = await transitionDeployment(tx, id, 'queued', 'canceled');
        if (!moved.ok) return moved;
        await recordAudit(tx, c, {
          action: 'deployment.canceled',
          workspaceId: access.workspaceId,
          actorRole: access.role,
          targetType: 'deployment',
          targetId: id,
        });
        return moved;
      });
    if (!canceled.ok) {
      throw new ApiError(
        'conflict',
        `A ${canceled.status ?? row.status} deployment cannot be canceled`,
      );
    }
    return c.json(toDeployment(canceled.deployment), 200);
  },
);
