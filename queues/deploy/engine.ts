import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import {
  type DeployConfig,
  DeployConfigSchema,
  missingRequiredEnv,
} from '../../core/deploy/config';
import { runHealthCheck } from '../../core/deploy/health';
import { type DeploymentState, transition } from '../../core/deploy/state-machine';
import { canarySteps } from '../../core/hosting/canary';
import { deploymentHost, hostLabel } from '../../core/hosting/host-routing';
import type { Database, Transaction } from '../../db/client';
import {
  auditLogs,
  type Build,
  builds,
  type Deployment,
  deployments,
  deploymentTransitions,
  type Environment,
  environments,
  outbox,
  type Project,
  projects,
} from '../../db/schema';
import { environmentCredentials } from '../../workers/api/environment-deploy';
import { newApp } from '../../workers/app';
import type { ConsumerContext } from '../consumer';
import { DEPLOYMENTS_QUEUE, type DeploymentsMessage } from '../messages';
import { reportToRepository } from '../reporting/report';
import {
  AdapterValidationError,
  type Artifact,
  type DeployAdapter,
  deployAdapter,
  type Fetch,
  ProviderError,
  type ProviderId,
  type ProviderRef,
  type ProviderStatus,
  RateLimitedError,
  type Target,
  UnsupportedOperationError,
} from './adapters';
import { ArtifactError, publishArtifact, readArtifact } from './edge-publish';

const ACTIVE: DeploymentState[] = ['validating', 'deploying', 'verifying'];
const EDGE = 'edge';

class DeployFailure extends Error {}

/** How the engine reaches external platforms and waits between polls; tests pass their own. */
export interface EngineOptions {
  /** For an external platform's API, the health checks of what it deployed, and commit statuses. */
  fetch?: Fetch;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

/** Runs the environment's health check against a URL, storing each result; throws on failure. */
function healthChecker(
  db: Database,
  deployment: Deployment,
  config: DeployConfig,
  io: { fetch: Fetch; sleep: (ms: number) => Promise<void> },
) {
  const deps = { ...io, now: () => Date.now() };
  const results: unknown[] = [...deployment.healthResults];
  return async (base: string) => {
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
}

/**
 * One deployment from validating to live (or failed, and for production rolled back to the
 * deployment that served before). The caller holds the environment's turn.
 */
async function execute(context: ConsumerContext, deployment: Deployment, options: EngineOptions) {
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
  if (deployment.platform !== EDGE) {
    await executeExternal(context, deployment, { environment, build, project, config }, options);
    return;
  }
  const previousLive = environment.liveDeploymentId;
  let switched = false;

  try {
    const problems = missingRequiredEnv(config, Object.keys(environment.envVars));
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
    const check = healthChecker(db, deployment, config, {
      fetch: inProcessFetch(env),
      sleep: defaultSleep,
    });
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

/** Between polls of a provider's deployment status. */
const POLL_INTERVAL_MS = 5_000;
/** Well under STALE_DEPLOYMENT_MS, so a provider that never settles fails before the cron steps in. */
const POLL_LIMIT = 120;

async function settled(
  adapter: DeployAdapter,
  target: Target,
  ref: ProviderRef,
  sleep: (ms: number) => Promise<void>,
): Promise<ProviderStatus> {
  for (let poll = 0; poll < POLL_LIMIT; poll++) {
    const status = await adapter.status(target, ref);
    if (status.state !== 'in_progress') return status;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new DeployFailure(`${adapter.name} did not finish the deployment in time`);
}

/** The build as an adapter sees it: its commit and its output files, read on demand. */
async function artifactOf(env: Env, build: Build): Promise<Artifact> {
  const files = build.artifactKey ? await readArtifact(env, build.artifactKey) : [];
  return {
    buildId: build.id,
    commitSha: build.commitSha,
    files: files.map((file) => ({ path: file.path, size: file.data.byteLength })),
    async read(path) {
      const file = files.find((candidate) => candidate.path === path);
      if (!file) throw new ArtifactError(`The build output has no ${path}`);
      return file.data;
    },
  };
}

const PROVIDER_FAILURES = [
  DeployFailure,
  ArtifactError,
  ProviderError,
  AdapterValidationError,
  UnsupportedOperationError,
];

/**
 * A deployment on an external platform through its adapter. It resumes from the stored state, so
 * a deployment handed back on a rate limit picks up where it stopped (the provider's handle is on
 * the row) instead of deploying twice.
 */
async function executeExternal(
  context: ConsumerContext,
  deployment: Deployment,
  loaded: { environment: Environment; build: Build; project: Project; config: DeployConfig },
  options: EngineOptions,
) {
  const { env, logger } = context;
  const db = context.services.db();
  const { environment, build, project, config } = loaded;
  const adapter = deployAdapter(deployment.platform as ProviderId);
  const fetcher = options.fetch ?? ((request: Request) => fetch(request));
  const sleep = options.sleep ?? defaultSleep;
  const target: Target = {
    config: environment.deployConfig.adapter,
    credentials: await environmentCredentials(context.services.config.ENCRYPTION_KEY, environment),
    fetch: fetcher,
  };
  const [previous] = environment.liveDeploymentId
    ? await db.select().from(deployments).where(eq(deployments.id, environment.liveDeploymentId))
    : [];
  const check = healthChecker(db, deployment, config, { fetch: fetcher, sleep });
  const steps = canarySteps(config.canary_steps);

  try {
    const artifact = await artifactOf(env, build);
    if (deployment.status === 'validating') {
      const problems = [
        ...missingRequiredEnv(config, Object.keys(environment.envVars)),
        ...adapter
          .validate(target.config, target.credentials, artifact, deployment.strategy)
          .map((problem) => `${problem.field}: ${problem.message}`),
      ];
      if (problems.length > 0) throw new DeployFailure(`Validation failed: ${problems.join('; ')}`);
      await move(db, deployment, 'deploying');
    }

    if (deployment.status === 'deploying') {
      if (!deployment.providerRef) {
        const ref = await adapter.deploy(target, {
          deploymentId: deployment.id,
          environment: environment.name,
          stage: deployment.stage,
          strategy: deployment.strategy,
          ...(deployment.strategy === 'canary' ? { canaryPercent: steps[0] } : {}),
          artifact,
        });
        await db
          .update(deployments)
          .set({ providerRef: ref, url: ref.url ?? null })
          .where(eq(deployments.id, deployment.id));
        deployment.providerRef = ref;
        deployment.url = ref.url ?? null;
      }
      const status = await settled(adapter, target, deployment.providerRef, sleep);
      if (status.state !== 'ready' && status.state !== 'live') {
        throw new DeployFailure(
          `${adapter.name} reports the deployment ${status.state}${status.detail ? `: ${status.detail}` : ''}`,
        );
      }
      deployment.url = status.url ?? deployment.url;
      await db
        .update(deployments)
        .set({ url: deployment.url })
        .where(eq(deployments.id, deployment.id));
      await move(db, deployment, 'verifying');
    }

    const ref = deployment.providerRef!;
    const verify = async () => {
      // Without a URL (a webhook receiver that sends none) the provider's own word is all we have.
      if (deployment.url) await check(deployment.url);
    };
    await verify();
    if (deployment.stage === 'production') {
      if (adapter.capabilities.promote === 'native' && deployment.strategy !== 'all_at_once') {
        const shares = deployment.strategy === 'canary' ? steps.slice(1) : [100];
        for (const percent of shares) {
          await adapter.promote(target, ref, percent);
          logger.info('provider_promoted', { deployment_id: deployment.id, percent });
          await verify();
        }
      }
      await db
        .update(environments)
        .set({ liveDeploymentId: deployment.id })
        .where(eq(environments.id, environment.id));
    }
    await move(db, deployment, 'live');
  } catch (err) {
    if (err instanceof RateLimitedError) {
      // Handed back: no startedAt marks it as waiting for the redelivered message to resume it.
      await db
        .update(deployments)
        .set({ startedAt: null })
        .where(eq(deployments.id, deployment.id));
      logger.warn('deployment_rate_limited', {
        deployment_id: deployment.id,
        provider: adapter.id,
        retry_at: err.retryAt.toISOString(),
      });
      throw err;
    }
    const known = PROVIDER_FAILURES.some((kind) => err instanceof kind);
    const reason = known && err instanceof Error ? err.message : 'internal error';
    if (!known) logger.error('deployment_crashed', { error: err });
    await move(db, deployment, 'failed', reason);
    const previousRef = previous?.platform === deployment.platform ? previous.providerRef : null;
    if (deployment.stage !== 'production' || !deployment.providerRef || !previousRef) return;
    try {
      await adapter.rollback(target, previousRef);
    } catch (rollbackError) {
      logger.error('deployment_rollback_failed', {
        deployment_id: deployment.id,
        provider: adapter.id,
        error: rollbackError,
      });
      return;
    }
    await db
      .update(deployments)
      .set({ rolledBackToId: previous!.id })
      .where(eq(deployments.id, deployment.id));
    await move(db, deployment, 'rolled_back', `automatic rollback: ${reason}`);
    await audit(db, deployment, project.workspaceId, 'deployment.rolled_back', {
      automatic: true,
      reason,
      to: previous!.id,
      provider: adapter.id,
    });
  }
}

const REPORTED_STATES = { live: 'success', failed: 'failure', rolled_back: 'failure' } as const;

/** The outcome as a commit status on the build's commit (and the preview URL on its pull request). */
async function reportDeployment(
  context: ConsumerContext,
  deploymentId: string,
  options: EngineOptions,
) {
  const db = context.services.db();
  const [row] = await db
    .select({ deployment: deployments, build: builds })
    .from(deployments)
    .innerJoin(builds, eq(builds.id, deployments.buildId))
    .where(eq(deployments.id, deploymentId));
  if (!row) return;
  const { deployment, build } = row;
  if (!Object.hasOwn(REPORTED_STATES, deployment.status)) return;
  const status = deployment.status as keyof typeof REPORTED_STATES;
  const description = {
    live: `Live on ${deployment.stage}`,
    failed: `Failed: ${deployment.error}`,
    rolled_back: `Failed and rolled back: ${deployment.error}`,
  }[status];
  const preview = deployment.status === 'live' && deployment.stage === 'preview';
  await reportToRepository(
    {
      db,
      encryptionKey: context.services.config.ENCRYPTION_KEY,
      fetch: options.fetch ?? ((request: Request) => fetch(request)),
      logger: context.logger,
    },
    deployment.projectId,
    {
      sha: build.commitSha,
      state: REPORTED_STATES[status],
      context: `sparki/deploy (${deployment.stage})`,
      description,
      ...(deployment.url ? { targetUrl: deployment.url } : {}),
    },
    preview && build.pullRequest && deployment.url
      ? {
          number: build.pullRequest,
          body: `Preview of ${build.commitSha.slice(0, 7)} is live: ${deployment.url}`,
        }
      : undefined,
  );
}

/**
 * Runs the environment's queued deployments one at a time, oldest first. Taking the turn locks
 * the environment row, so two consumers never deploy to one environment at once.
 */
export async function drainEnvironment(
  context: ConsumerContext,
  environmentId: string,
  options: EngineOptions = {},
) {
  const db = context.services.db();
  for (;;) {
    const next = await db.transaction(async (tx) => {
      await tx
        .select({ id: environments.id })
        .from(environments)
        .where(eq(environments.id, environmentId))
        .for('update');
      const [active] = await tx
        .select()
        .from(deployments)
        .where(
          and(eq(deployments.environmentId, environmentId), inArray(deployments.status, ACTIVE)),
        );
      if (active?.startedAt) return undefined;
      if (active) {
        // Handed back on a provider's rate limit: this delivery resumes it.
        await tx
          .update(deployments)
          .set({ startedAt: new Date() })
          .where(eq(deployments.id, active.id));
        return active;
      }
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
    await execute(context, next, options);
    await reportDeployment(context, next.id, options);
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
  // The target is fixed when the deployment is asked for: changing it later leaves this one be.
  const [environment] = await db
    .select({ deployTarget: environments.deployTarget })
    .from(environments)
    .where(eq(environments.id, input.environmentId));
  await db
    .insert(deployments)
    .values({
      requestKey: input.requestKey,
      buildId: input.buildId,
      projectId: input.projectId,
      environmentId: input.environmentId,
      stage: input.stage,
      strategy: input.strategy ?? 'all_at_once',
      platform: environment?.deployTarget ?? EDGE,
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
        or(
          lt(deployments.startedAt, new Date(now.getTime() - STALE_DEPLOYMENT_MS)),
          // Handed back on a rate limit and never resumed (its message ran out of retries).
          and(
            isNull(deployments.startedAt),
            lt(deployments.updatedAt, new Date(now.getTime() - STALE_DEPLOYMENT_MS)),
          ),
        ),
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
