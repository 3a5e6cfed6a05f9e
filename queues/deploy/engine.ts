import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import { DeployConfigSchema, missingRequiredEnv } from '../../core/deploy/config';
import { runHealthCheck } from '../../core/deploy/health';
import { type DeploymentState, transition } from '../../core/deploy/state-machine';
import { canarySteps } from '../../core/hosting/canary';
import { deploymentHost, hostLabel } from '../../core/hosting/host-routing';
import type { Database, Transaction } from '../../db/client';
import {
  auditLogs,
  builds,
  type Deployment,
  deployments,
  deploymentTransitions,
  environments,
  outbox,
  projects,
} from '../../db/schema';
import { newApp } from '../../workers/app';
import type { ConsumerContext } from '../consumer';
import { DEPLOYMENTS_QUEUE, type DeploymentsMessage } from '../messages';
import { ArtifactError, publishArtifact } from './edge-publish';

const ACTIVE: DeploymentState[] = ['validating', 'deploying', 'verifying'];
const EDGE = 'edge';

class DeployFailure extends Error {}

/** Stores a state change and its history row together. */
async function move(db: Database, deployment: Deployment, to: DeploymentState, reason?: string) {
  transition([], deployment.status, to, new Date(), reason);
  await db.transaction(async (tx) => {
    await tx
      .update(deployments)
      .set({
        status: to,
        ...(to === 'validating' ? { startedAt: new Date() } : {}),
        ...(['live', 'failed', 'rolled_back', 'canceled'].includes(to)
          ? { finishedAt: new Date() }
          : {}),
        ...(reason && to === 'failed' ? { error: reason } : {}),
      })
      .where(eq(deployments.id, deployment.id));
    await tx.insert(deploymentTransitions).values({
      deploymentId: deployment.id,
      fromStatus: deployment.status,
      toStatus: to,
      reason: reason ?? null,
    });
  });
  deployment.status = to;
}

/** The project's name under the hosting domain, given on first deploy when it has none yet. */
async function ensureHostLabel(db: Database, projectId: string): Promise<string> {
  const [project] = await db.select().from(projects).where(eq(projects.id, projectId));
  if (!project) throw new DeployFailure('The project no longer exists');
  if (project.hostLabel) return project.hostLabel;
  for (let attempt = 0; attempt < 5; attempt++) {
    const label =
      attempt === 0
        ? hostLabel(project.slug)
        : `${hostLabel(project.slug)}-${crypto.randomUUID().slice(0, 4)}`;
    const [set] = await db
      .update(projects)
      .set({ hostLabel: label })
      .where(and(eq(projects.id, projectId), sql`${projects.hostLabel} is null`))
      .returning({ hostLabel: projects.hostLabel })
      .catch(() => []);
    if (set?.hostLabel) return set.hostLabel;
    const [again] = await db
      .select({ hostLabel: projects.hostLabel })
      .from(projects)
      .where(eq(projects.id, projectId));
    if (again?.hostLabel) return again.hostLabel;
  }
  throw new DeployFailure('Could not give the project a host name');
}

/** Requests the edge host for a URL in-process, as a visitor would reach it. */
function inProcessFetch(env: Env) {
  const app = newApp();
  return async (request: Request) => {
    const pending: Promise<unknown>[] = [];
    const ctx = {
      waitUntil: (promise: Promise<unknown>) => pending.push(promise),
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext;
    const response = await app.fetch(request, env, ctx);
    const body = await response.arrayBuffer();
    await Promise.allSettled(pending);
    return new Response(body, response);
  };
}

function urlFor(env: Env, host: string) {
  return `${new URL(env.PUBLIC_URL).protocol}//${host}`;
}

async function audit(
  db: Database,
  deployment: Deployment,
  workspaceId: string,
  action: string,
  metadata: Record<string, unknown>,
) {
  await db.insert(auditLogs).values({
    workspaceId,
    actorId: null,
    actorRole: 'system',
    action,
    targetType: 'deployment',
    targetId: deployment.id,
    result: 'success',
    metadata,
  });
}

/**
 * One deployment from validating to live (or failed, and for production rolled back to the
 * deployment that served before). The caller holds the environment's turn.
 */
async function execute(context: ConsumerContext, deployment: Deployment) {
  const { env, logger } = context;
  const db = context.services.db();
  const [environment] = await db
    .select()
    .from(environments)
    .where(eq(environments.id, deployment.environmentId));
  const [build] = await db.select().from(builds).where(eq(builds.id, deployment.buildId));
  const [project] = await db.select().from(projects).where(eq(projects.id, deployment.projectId));
  if (!environment || !build || !project)
    throw new DeployFailure('The environment, build or project is gone');
  const config = DeployConfigSchema.parse(environment.deployConfig);
  const previousLive = environment.liveDeploymentId;
  let switched = false;

  try {
    const problems = missingRequiredEnv(config, Object.keys(environment.envVars));
    if (deployment.platform !== EDGE)
      problems.push(`the ${deployment.platform} target is not available yet`);
    if (!deployment.manifestKey && !build.artifactKey)
      problems.push('the build produced no output');
    if (problems.length > 0) throw new DeployFailure(`Validation failed: ${problems.join('; ')}`);

    await move(db, deployment, 'deploying');
    const label = await ensureHostLabel(db, project.id);
    let manifestKey = deployment.manifestKey;
    if (!manifestKey) {
      const published = await publishArtifact(env, build.artifactKey!, deployment.id, {
        spa: config.spa,
      });
      manifestKey = published.manifestKey;
      logger.info('deployment_published', { deployment_id: deployment.id, ...published });
    }
    const url = urlFor(env, deploymentHost(deployment.label, label, env.HOSTING_DOMAIN));
    await db.update(deployments).set({ manifestKey, url }).where(eq(deployments.id, deployment.id));

    await move(db, deployment, 'verifying');
    const fetcher = inProcessFetch(env);
    const deps = {
      fetch: fetcher,
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
      now: () => Date.now(),
    };
    const results: unknown[] = [];
    const check = async (base: string) => {
      const result = await runHealthCheck(config.health_check, base, deps);
      results.push(result);
      await db
        .update(deployments)
        .set({ healthResults: results })
        .where(eq(deployments.id, deployment.id));
      if (!result.ok) {
        throw new DeployFailure(
          `Health check failed at ${result.url}: ${result.attempts.at(-1)?.reason}`,
        );
      }
    };
    // Every strategy proves the new version on its own URL before any visitor sees it.
    await check(url);

    if (deployment.stage === 'production') {
      const productionUrl = urlFor(env, `${label}.${env.HOSTING_DOMAIN}`);
      if (deployment.strategy === 'canary' && previousLive) {
        for (const percent of canarySteps(config.canary_steps)) {
          await db
            .update(environments)
            .set({ canaryDeploymentId: deployment.id, canaryPercent: percent })
            .where(eq(environments.id, environment.id));
          switched = true;
          logger.info('canary_step', { deployment_id: deployment.id, percent });
          await check(productionUrl);
        }
      }
      await db
        .update(environments)
        .set({ liveDeploymentId: deployment.id, canaryDeploymentId: null, canaryPercent: 0 })
        .where(eq(environments.id, environment.id));
      switched = true;
      if (deployment.strategy === 'all_at_once') await check(productionUrl);
    }
    await move(db, deployment, 'live');
  } catch (err) {
    const known = err instanceof DeployFailure || err instanceof ArtifactError;
    const reason = known ? err.message : 'internal error';
    if (!known) logger.error('deployment_crashed', { error: err });
    const verified = deployment.status === 'verifying';
    await move(db, deployment, 'failed', reason);
    if (deployment.stage === 'production' && verified && previousLive) {
      // Production stays on (or goes straight back to) what served before: only the pointer moves.
      if (switched) {
        await db
          .update(environments)
          .set({ liveDeploymentId: previousLive, canaryDeploymentId: null, canaryPercent: 0 })
          .where(eq(environments.id, environment.id));
      }
      await db
        .update(deployments)
        .set({ rolledBackToId: previousLive })
        .where(eq(deployments.id, deployment.id));
      await move(db, deployment, 'rolled_back', `automatic rollback: ${reason}`);
      await audit(db, deployment, project.workspaceId, 'deployment.rolled_back', {
        automatic: true,
        reason,
        to: previousLive,
      });
    }
  }
}

/**
 * Runs the environment's queued deployments one at a time, oldest first. Taking the turn locks
 * the environment row, so two consumers never deploy to one environment at once.
 */
export async function drainEnvironment(context: ConsumerContext, environmentId: string) {
  const db = context.services.db();
  for (;;) {
    const next = await db.transaction(async (tx) => {
      await tx
        .select({ id: environments.id })
        .from(environments)
        .where(eq(environments.id, environmentId))
        .for('update');
      const [active] = await tx
        .select({ id: deployments.id })
        .from(deployments)
        .where(
          and(eq(deployments.environmentId, environmentId), inArray(deployments.status, ACTIVE)),
        );
      if (active) return undefined;
      const [queued] = await tx
        .select()
        .from(deployments)
        .where(and(eq(deployments.environmentId, environmentId), eq(deployments.status, 'queued')))
        .orderBy(asc(deployments.createdAt))
        .limit(1);
      if (!queued) return undefined;
      await tx
        .update(deployments)
        .set({ status: 'validating', startedAt: new Date() })
        .where(eq(deployments.id, queued.id));
      await tx
        .insert(deploymentTransitions)
        .values({ deploymentId: queued.id, fromStatus: 'queued', toStatus: 'validating' });
      return { ...queued, status: 'validating' as const };
    });
    if (!next) return;
    await execute(context, next);
  }
}

/** Creates the deployment a request asks for, once: the request key makes redelivery harmless. */
export async function requestDeployment(
  db: Database | Transaction,
  input: {
    requestKey: string;
    buildId: string;
    projectId: string;
    environmentId: string;
    stage: 'preview' | 'production';
    strategy?: 'all_at_once' | 'blue_green' | 'canary';
    manifestKey?: string | null;
  },
) {
  await db
    .insert(deployments)
    .values({
      requestKey: input.requestKey,
      buildId: input.buildId,
      projectId: input.projectId,
      environmentId: input.environmentId,
      stage: input.stage,
      strategy: input.strategy ?? 'all_at_once',
      platform: EDGE,
      manifestKey: input.manifestKey ?? null,
    })
    .onConflictDoNothing({ target: deployments.requestKey });
  const [row] = await db
    .select()
    .from(deployments)
    .where(eq(deployments.requestKey, input.requestKey));
  return row!;
}

export async function handleDeploymentsMessage(
  message: DeploymentsMessage,
  context: ConsumerContext,
) {
  const db = context.services.db();
  if (message.type === 'deployment.requested') {
    await drainEnvironment(context, message.environment_id);
    return;
  }
  const [environment] = await db
    .select()
    .from(environments)
    .where(
      and(eq(environments.projectId, message.project_id), eq(environments.kind, message.target)),
    );
  if (!environment) {
    context.logger.warn('deploy_no_environment', {
      project_id: message.project_id,
      target: message.target,
    });
    return;
  }
  if (!environment.autoDeploy) {
    context.logger.info('deploy_skipped_auto_deploy_off', { build_id: message.build_id });
    return;
  }
  await requestDeployment(db, {
    requestKey: `build:${message.build_id}:${environment.id}`,
    buildId: message.build_id,
    projectId: message.project_id,
    environmentId: environment.id,
    stage: message.target,
    strategy: environment.strategy,
  });
  await drainEnvironment(context, environment.id);
}

/** A deployment active this long has lost its consumer (a crash, a timeout). */
export const STALE_DEPLOYMENT_MS = 15 * 60 * 1000;

/**
 * Cron: fails deployments whose consumer died mid-way, so their environment's queue moves on,
 * and announces the environments so their next queued deployment runs.
 */
export async function failStaleDeployments(db: Database, now: Date) {
  const stale = await db
    .update(deployments)
    .set({ status: 'failed', error: 'the deploy engine stopped answering', finishedAt: now })
    .where(
      and(
        inArray(deployments.status, ACTIVE),
        lt(deployments.startedAt, new Date(now.getTime() - STALE_DEPLOYMENT_MS)),
      ),
    )
    .returning();
  for (const row of stale) {
    await db.insert(deploymentTransitions).values({
      deploymentId: row.id,
      toStatus: 'failed',
      reason: 'the deploy engine stopped answering',
      at: now,
    });
    await db.insert(outbox).values({
      topic: DEPLOYMENTS_QUEUE,
      payload: { type: 'deployment.requested', environment_id: row.environmentId },
    });
  }
  return stale.length;
}
