import { and, eq, sql } from 'drizzle-orm';
import {
  type DeployConfig,
  DeployConfigSchema,
  missingRequiredEnv,
} from '../../core/deploy/config';
import { resolveImageTemplate } from '../../core/deploy/image-reference';
import { canarySteps } from '../../core/hosting/canary';
import { deploymentHost, hostLabel } from '../../core/hosting/host-routing';
import type { Database, Transaction } from '../../db/client';
import {
  type Build,
  builds,
  type Deployment,
  deployments,
  type Environment,
  environments,
  type Project,
  projects,
} from '../../db/schema';
import type { DeploymentsMessage } from '../../platform/queues';
import type { TaskContext } from '../../platform/services';
import { ArtifactError, publishArtifact, publishOutputManifest } from '../hosting/publish';
import { siteFetch } from '../hosting/site-host';
import {
  AdapterValidationError,
  type DeployAdapter,
  deployAdapter,
  EDGE,
  type Fetch,
  ProviderError,
  type ProviderId,
  type ProviderRef,
  type ProviderStatus,
  RateLimitedError,
  type Target,
  UnsupportedOperationError,
} from './adapters';
import { artifactOf } from './artifact';
import { auditDeployment } from './audit';
import { environmentCredentials } from './credentials';
import { DeployFailure, StateChanged } from './errors';
import { healthChecker } from './health';
import { promotedShares, promotionOf } from './promotion';
import { move, withTurn } from './turn';

/** How the engine reaches external platforms and waits between polls; tests pass their own. */
export interface EngineOptions {
  /** For an external platform's API, the health checks of what it deployed, and commit statuses. */
  fetch?: Fetch;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

function urlFor(env: Env, host: string) {
  return `${new URL(env.PUBLIC_URL).protocol}//${host}`;
}

/**
 * One deployment from validating to live (or failed, and for production rolled back to the
 * deployment that served before). The caller holds the environment's turn.
 */
export async function runDeployment(
  context: TaskContext,
  deployment: Deployment,
  options: EngineOptions,
) {
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
  // A canary resumed after one of its steps has served its time: it is already on production.
  const resumed = deployment.resumeAt !== null;
  let switched = resumed && environment.canaryDeploymentId === deployment.id;

  try {
    const label = await ensureHostLabel(db, project.id);
    const check = healthChecker(db, deployment, config, {
      fetch: siteFetch(env),
      sleep: defaultSleep,
    });
    if (!resumed) {
      const problems = missingRequiredEnv(config, Object.keys(environment.envVars));
      if (!deployment.manifestKey && !build.outputManifestKey && !build.artifactKey)
        problems.push('the build produced no output');
      if (problems.length > 0) throw new DeployFailure(`Validation failed: ${problems.join('; ')}`);

      await move(db, deployment, 'deploying');
      let manifestKey = deployment.manifestKey;
      if (!manifestKey) {
        const options = { spa: config.spa, workspaceId: project.workspaceId };
        const published = build.outputManifestKey
          ? await publishOutputManifest(env, build.outputManifestKey, deployment.id, options)
          : await publishArtifact(env, build.artifactKey!, deployment.id, options);
        manifestKey = published.manifestKey;
        logger.info('deployment_published', { deployment_id: deployment.id, ...published });
      }
      const url = urlFor(env, deploymentHost(deployment.label, label, env.HOSTING_DOMAIN));
      await db
        .update(deployments)
        .set({ manifestKey, url })
        .where(eq(deployments.id, deployment.id));

      await move(db, deployment, 'verifying');
      // Every strategy proves the new version on its own URL before any visitor sees it.
      await check(url);
    }

    if (deployment.stage === 'production') {
      const productionUrl = urlFor(env, `${label}.${env.HOSTING_DOMAIN}`);
      if (deployment.strategy === 'canary' && previousLive) {
        // The share that has just served its time is judged before the next is taken.
        if (resumed) await check(productionUrl);
        const next = canarySteps(config.canary_steps).filter(
          (percent) => percent > (deployment.canaryPercent ?? 0),
        );
        for (const percent of next) {
          await withTurn(db, deployment, async (tx) => {
            await tx
              .update(environments)
              .set({ canaryDeploymentId: deployment.id, canaryPercent: percent })
              .where(eq(environments.id, environment.id));
            await recordCanaryShare(tx, deployment, percent);
          });
          switched = true;
          logger.info('canary_step', { deployment_id: deployment.id, percent });
          if (percent < 100 && config.canary_interval_seconds > 0) {
            // The share serves its time before it is judged; the environment stays locked.
            await pauseCanary(context, deployment, config.canary_interval_seconds);
            return;
          }
          await check(productionUrl);
        }
      }
      await withTurn(db, deployment, (tx) =>
        tx
          .update(environments)
          .set({ liveDeploymentId: deployment.id, canaryDeploymentId: null, canaryPercent: 0 })
          .where(eq(environments.id, environment.id)),
      );
      switched = true;
      if (deployment.strategy === 'all_at_once') await check(productionUrl);
    }
    await move(db, deployment, 'live');
  } catch (err) {
    if (err instanceof StateChanged) throw err;
    const known = err instanceof DeployFailure || err instanceof ArtifactError;
    const reason = known ? err.message : 'internal error';
    if (!known) logger.error('deployment_crashed', { error: err });
    const rollBack = deployment.stage === 'production' && deployment.status === 'verifying';
    // Failing, and putting production back, is one step under the environment's lock.
    await withTurn(db, deployment, async (tx) => {
      await move(tx, deployment, 'failed', { reason });
      if (!rollBack || !previousLive) return;
      // Production stays on (or goes straight back to) what served before: only the pointer moves.
      if (switched) {
        await tx
          .update(environments)
          .set({ liveDeploymentId: previousLive, canaryDeploymentId: null, canaryPercent: 0 })
          .where(eq(environments.id, environment.id));
      }
      await move(tx, deployment, 'rolled_back', {
        reason: `automatic rollback: ${reason}`,
        set: { rolledBackToId: previousLive },
      });
      await auditDeployment(tx, {
        workspaceId: project.workspaceId,
        deploymentId: deployment.id,
        action: 'deployment.rolled_back',
        metadata: { automatic: true, reason, to: previousLive },
      });
    });
  }
}

async function recordCanaryShare(
  db: Database | Transaction,
  deployment: Deployment,
  percent: number,
) {
  await db
    .update(deployments)
    .set({ canaryPercent: percent })
    .where(eq(deployments.id, deployment.id));
  deployment.canaryPercent = percent;
}

/**
 * Leaves a canary step serving: the deployment stays active (so the environment's queue waits)
 * with no consumer on it until `resumeAt`. A delayed message resumes it then; should that message
 * be lost, the cron does (`resumeDueCanaries`).
 */
async function pauseCanary(context: TaskContext, deployment: Deployment, seconds: number) {
  const resumeAt = new Date(Date.now() + seconds * 1000);
  const [paused] = await context.services
    .db()
    .update(deployments)
    .set({ startedAt: null, resumeAt })
    .where(and(eq(deployments.id, deployment.id), eq(deployments.status, deployment.status)))
    .returning({ id: deployments.id });
  if (!paused) throw new StateChanged(deployment.id, deployment.status, null);
  const message: DeploymentsMessage = {
    type: 'deployment.requested',
    environment_id: deployment.environmentId,
  };
  await context.env.DEPLOYMENTS_QUEUE.send(message, { delaySeconds: seconds }).catch(
    (error: unknown) => context.logger.warn('canary_resume_not_scheduled', { error }),
  );
  context.logger.info('canary_step_serving', {
    deployment_id: deployment.id,
    percent: deployment.canaryPercent,
    resume_at: resumeAt.toISOString(),
  });
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
  context: TaskContext,
  deployment: Deployment,
  loaded: { environment: Environment; build: Build; project: Project; config: DeployConfig },
  options: EngineOptions,
) {
  const { logger } = context;
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
    const image = config.image ? resolveImageTemplate(config.image, build) : undefined;
    const imageProblem = image && 'problem' in image ? image.problem : undefined;
    const artifact = await artifactOf(
      context,
      build,
      image && 'image' in image ? image.image : undefined,
    );
    const promotion = await promotionOf(db, deployment, environment, adapter);
    if (deployment.status === 'validating') {
      const problems = [
        ...missingRequiredEnv(config, Object.keys(environment.envVars)),
        ...(imageProblem ? [`deploy_config.image: ${imageProblem}`] : []),
        ...adapter
          .validate(target.config, target.credentials, artifact, deployment.strategy)
          // An image the template could not give is already named above.
          .filter((problem) => !(imageProblem && problem.field === 'artifact.image'))
          .map((problem) => `${problem.field}: ${problem.message}`),
      ];
      if (problems.length > 0) throw new DeployFailure(`Validation failed: ${problems.join('; ')}`);
      await move(db, deployment, 'deploying', { reason: promotion?.reason });
      if (promotion) {
        logger.info('deployment_promotion', {
          deployment_id: deployment.id,
          from: deployment.promotedFromId,
          native: Boolean(promotion.nativeRef),
          reason: promotion.reason,
        });
      }
    }

    if (deployment.status === 'deploying') {
      if (!deployment.providerRef) {
        const ref =
          promotion?.nativeRef ??
          (await adapter.deploy(target, {
            deploymentId: deployment.id,
            environment: environment.name,
            stage: deployment.stage,
            strategy: deployment.strategy,
            ...(deployment.strategy === 'canary' ? { canaryPercent: steps[0] } : {}),
            artifact,
          }));
        // A canary deployed anew already takes its first share of production traffic.
        const share =
          deployment.strategy === 'canary' &&
          deployment.stage === 'production' &&
          !promotion?.nativeRef
            ? steps[0]
            : null;
        await db
          .update(deployments)
          .set({ providerRef: ref, url: ref.url ?? null, canaryPercent: share ?? null })
          .where(eq(deployments.id, deployment.id));
        deployment.providerRef = ref;
        deployment.url = ref.url ?? null;
        deployment.canaryPercent = share ?? null;
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
    // On resume this judges the canary share that has just served its time.
    await verify();
    if (deployment.stage === 'production') {
      let served = deployment.resumeAt !== null;
      const shares = promotedShares(adapter, deployment.strategy, steps, promotion).filter(
        (percent) => percent > (deployment.canaryPercent ?? 0),
      );
      for (const percent of shares) {
        const current = deployment.canaryPercent ?? 0;
        if (current > 0 && current < 100 && !served && config.canary_interval_seconds > 0) {
          await pauseCanary(context, deployment, config.canary_interval_seconds);
          return;
        }
        served = false;
        await adapter.promote(target, ref, percent);
        if (deployment.strategy === 'canary') await recordCanaryShare(db, deployment, percent);
        logger.info('provider_promoted', { deployment_id: deployment.id, percent });
        await verify();
      }
      await withTurn(db, deployment, async (tx) => {
        await tx
          .update(environments)
          .set({ liveDeploymentId: deployment.id })
          .where(eq(environments.id, environment.id));
        await move(tx, deployment, 'live');
      });
    } else {
      await move(db, deployment, 'live');
    }
  } catch (err) {
    if (err instanceof StateChanged) throw err;
    if (err instanceof RateLimitedError) {
      // Handed back: no startedAt marks it as waiting for the redelivered message to resume it.
      await db
        .update(deployments)
        .set({ startedAt: null })
        .where(and(eq(deployments.id, deployment.id), eq(deployments.status, deployment.status)));
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
    await move(db, deployment, 'failed', { reason });
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
    await db.transaction(async (tx) => {
      await move(tx, deployment, 'rolled_back', {
        reason: `automatic rollback: ${reason}`,
        set: { rolledBackToId: previous!.id },
      });
      await auditDeployment(tx, {
        workspaceId: project.workspaceId,
        deploymentId: deployment.id,
        action: 'deployment.rolled_back',
        metadata: { automatic: true, reason, to: previous!.id, provider: adapter.id },
      });
    });
  }
}
