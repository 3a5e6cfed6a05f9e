import { and, eq } from 'drizzle-orm';
import {
  type DeployConfig,
  DeployConfigSchema,
  missingRequiredEnv,
} from '../../core/deploy/config';
import { resolveImageTemplate } from '../../core/deploy/image-reference';
import { canarySteps } from '../../core/hosting/canary';
import type { Database } from '../../db/client';
import {
  type Build,
  builds,
  type Deployment,
  deployments,
  type Environment,
  environments,
  projects,
} from '../../db/schema';
import type { TaskContext } from '../../platform/services';
import { ArtifactError } from '../hosting/publish';
import {
  AdapterValidationError,
  type Artifact,
  type Fetch,
  ProviderError,
  type ProviderStatus,
  RateLimitedError,
  UnsupportedOperationError,
} from './adapters';
import { artifactOf } from './artifact';
import { auditDeployment } from './audit';
import { pauseCanary, recordCanaryShare } from './canary';
import { DeployFailure, StateChanged } from './errors';
import { healthChecker } from './health';
import { type Placement, placementOf } from './placement';
import { type Promotion, promotedShares, promotionOf } from './promotion';
import { DeploymentTrace } from './trace';
import { move, withTurn } from './turn';

/** How the engine reaches external platforms and waits between polls; tests pass their own. */
export interface EngineOptions {
  /** For an external platform's API, the health checks of what it deployed, and commit statuses. */
  fetch?: Fetch;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Between polls of a platform's deployment status. */
const POLL_INTERVAL_MS = 5_000;
/** Well under STALE_DEPLOYMENT_MS, so a platform that never settles fails before the cron steps in. */
const POLL_LIMIT = 120;

/** The end of the engine's run: its outcome is to be notified and reported (domain/deployments/queue). */
const ENDED_BY_ENGINE = { set: { reportPending: true } };

/** Failures whose message becomes the deployment's error; anything else is an internal error. */
const KNOWN_FAILURES = [
  DeployFailure,
  ArtifactError,
  ProviderError,
  AdapterValidationError,
  UnsupportedOperationError,
];

/** One deployment being run, with what it needs at every step. */
interface Run extends Placement {
  context: TaskContext;
  db: Database;
  deployment: Deployment;
  environment: Environment;
  build: Build;
  workspaceId: string;
  config: DeployConfig;
  steps: number[];
  /** What production served when the run began: an automatic rollback goes back to it. */
  previous: Deployment | undefined;
  sleep: (ms: number) => Promise<void>;
  /** Health-checks a URL; without one (a webhook receiver may report none) the platform's word stands. */
  check: (url: string | null) => Promise<void>;
  trace: DeploymentTrace;
}

/**
 * One deployment from validating to live (or failed, and for production rolled back to what
 * served before), on any platform: the strategy runs here, and the adapter only deploys, reports
 * and moves traffic. The run resumes from the stored state: a deployment handed back on a rate
 * limit picks up where it stopped (the platform's handle is on the row) instead of deploying
 * twice, and a canary resumed once a share has served its time has that share judged and goes on.
 * The caller holds the environment's turn.
 */
export async function runDeployment(
  context: TaskContext,
  deployment: Deployment,
  options: EngineOptions,
) {
  const run = await begin(context, deployment, options);
  const resumed = deployment.resumeAt !== null;
  try {
    const promotion = await promotionOf(run.db, deployment, run.environment, run.adapter);
    if (!deployment.providerRef) {
      const image = run.config.image
        ? resolveImageTemplate(run.config.image, run.build)
        : undefined;
      const artifact = await artifactOf(
        context,
        run.build,
        image && 'image' in image ? image.image : undefined,
      );
      if (deployment.status === 'validating') {
        await validate(run, artifact, image && 'problem' in image ? image.problem : undefined);
        await move(run.db, deployment, 'deploying', { reason: promotion?.reason });
        if (promotion) {
          context.logger.info('deployment_promotion', {
            deployment_id: deployment.id,
            from: deployment.promotedFromId,
            native: Boolean(promotion.nativeRef),
            reason: promotion.reason,
          });
        }
      }
      if (deployment.status === 'deploying') await deploy(run, artifact, promotion);
    }
    if (deployment.status === 'deploying') await settle(run);

    // Once up, the deployment is checked on its own URL; a share of production traffic that has
    // served its time is judged where production visitors reach it.
    await run.check(resumed ? shareUrl(run) : deployment.url);
    if (deployment.stage !== 'production') {
      await move(run.db, deployment, 'live', ENDED_BY_ENGINE);
      await run.trace.live();
      return;
    }
    if (!(await promote(run, promotion, resumed))) return;
    await withTurn(run.db, deployment, async (tx) => {
      await tx
        .update(environments)
        .set({ liveDeploymentId: deployment.id })
        .where(eq(environments.id, run.environment.id));
      await move(tx, deployment, 'live', ENDED_BY_ENGINE);
    });
    await run.trace.live();
  } catch (err) {
    if (!(err instanceof StateChanged || err instanceof RateLimitedError))
      await run.trace.failed(err);
    await fail(run, err);
  }
}

async function begin(
  context: TaskContext,
  deployment: Deployment,
  options: EngineOptions,
): Promise<Run> {
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
  const placement = await placementOf(
    context,
    deployment,
    { environment, project, config },
    options.fetch ?? ((request: Request) => fetch(request)),
  );
  const [previous] = environment.liveDeploymentId
    ? await db.select().from(deployments).where(eq(deployments.id, environment.liveDeploymentId))
    : [];
  const sleep = options.sleep ?? defaultSleep;
  const { config: platformConfig } = context.services;
  const trace = new DeploymentTrace(
    { db, config: platformConfig, logger: context.logger },
    deployment,
  );
  const check = healthChecker(db, deployment, config, {
    fetch: trace.fetch(placement.target.fetch),
    sleep,
  });
  return {
    ...placement,
    context,
    db,
    deployment,
    environment,
    build,
    workspaceId: project.workspaceId,
    config,
    steps: canarySteps(config.canary_steps),
    previous,
    sleep,
    check: async (url) => {
      if (url) await trace.checked(url, () => check(url));
    },
    trace,
  };
}

/** What stops a deployment before anything moves, each problem naming what to fix. */
async function validate(run: Run, artifact: Artifact, imageProblem: string | undefined) {
  const { adapter, target, deployment } = run;
  const problems = [
    ...missingRequiredEnv(run.config, Object.keys(run.environment.envVars)),
    ...(imageProblem ? [`deploy_config.image: ${imageProblem}`] : []),
    ...adapter
      .validate(target.config, target.credentials, artifact, deployment.strategy)
      // An image the template could not give is already named above.
      .filter((problem) => !(imageProblem && problem.field === 'artifact.image'))
      .map((problem) => `${problem.field}: ${problem.message}`),
  ];
  if (problems.length > 0) throw new DeployFailure(`Validation failed: ${problems.join('; ')}`);
}

/** Hands the build to the platform, once: the handle it answers is kept on the row. */
async function deploy(run: Run, artifact: Artifact, promotion: Promotion | undefined) {
  const { db, deployment, adapter, steps } = run;
  const ref =
    promotion?.nativeRef ??
    (await adapter.deploy(run.target, {
      deploymentId: deployment.id,
      environment: run.environment.name,
      stage: deployment.stage,
      strategy: deployment.strategy,
      ...(deployment.strategy === 'canary' ? { canaryPercent: steps[0] } : {}),
      artifact,
    }));
  // A canary a provider deploys anew already takes its first share of production traffic.
  const share =
    deployment.strategy === 'canary' &&
    deployment.stage === 'production' &&
    adapter.capabilities.traffic === 'strategy' &&
    !promotion?.nativeRef
      ? (steps[0] ?? null)
      : null;
  await db
    .update(deployments)
    .set({ providerRef: ref, url: ref.url ?? null, canaryPercent: share })
    .where(eq(deployments.id, deployment.id));
  deployment.providerRef = ref;
  deployment.url = ref.url ?? null;
  deployment.canaryPercent = share;
}

/** Waits for the platform to finish the deployment, which then runs on its own URL. */
async function settle(run: Run) {
  const { db, deployment, adapter } = run;
  const status = await settled(run);
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

async function settled({ adapter, target, deployment, sleep }: Run): Promise<ProviderStatus> {
  for (let poll = 0; poll < POLL_LIMIT; poll++) {
    const status = await adapter.status(target, deployment.providerRef!);
    if (status.state !== 'in_progress') return status;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new DeployFailure(`${adapter.name} did not finish the deployment in time`);
}

function shareUrl(run: Run) {
  return run.productionUrl ?? run.deployment.url;
}

/**
 * Moves production traffic to the deployment through its shares, each under the environment's
 * turn and health-checked where production visitors reach it. A share below 100% serves
 * `canary_interval_seconds` before it is judged and the next is taken: the run pauses there,
 * answering false.
 */
async function promote(run: Run, promotion: Promotion | undefined, resumed: boolean) {
  const { db, deployment, adapter, target } = run;
  const interval = run.config.canary_interval_seconds;
  const shares = promotedShares(
    adapter,
    deployment.strategy,
    run.steps,
    promotion,
    run.previous !== undefined,
  ).filter((percent) => percent > (deployment.canaryPercent ?? 0));
  // The share serving now has served its time, and was judged on resuming.
  let served = resumed;
  for (const percent of shares) {
    const current = deployment.canaryPercent ?? 0;
    if (current > 0 && current < 100 && !served && interval > 0) {
      await pauseCanary(run.context, deployment, interval);
      return false;
    }
    served = false;
    await withTurn(db, deployment, async (tx) => {
      await adapter.promote({ ...target, db: tx }, deployment.providerRef!, percent);
      if (deployment.strategy === 'canary') await recordCanaryShare(tx, deployment, percent);
    });
    run.context.logger.info('deployment_promoted', {
      deployment_id: deployment.id,
      platform: adapter.id,
      percent,
    });
    if (percent === 100 || interval === 0) await run.check(shareUrl(run));
  }
  return true;
}

/**
 * What an automatic rollback puts back: the deployment production served before, when this one
 * went to production on the same platform (another platform's deployment is nothing this one's
 * can switch back to). The edge host knows a deployment by its id, all that a deployment it
 * published before handles were kept on the row has.
 */
function rollbackTarget({ deployment, previous }: Run) {
  if (deployment.stage !== 'production' || !deployment.providerRef) return undefined;
  if (!previous || previous.platform !== deployment.platform) return undefined;
  return { id: previous.id, ref: previous.providerRef ?? { id: previous.id } };
}

/**
 * Ends the deployment `failed` and, in production, puts back what served before: the deployment
 * is `rolled_back` to it, audited as the engine's own doing. Failing and putting production back
 * is one step under the environment's lock. A provider's rate limit fails nothing: the deployment
 * is handed back, for the queue's retry to resume it.
 */
async function fail(run: Run, err: unknown) {
  const { db, deployment, adapter, target, context } = run;
  if (err instanceof StateChanged) throw err;
  if (err instanceof RateLimitedError) {
    // No startedAt marks it as waiting for the redelivered message to resume it.
    await db
      .update(deployments)
      .set({ startedAt: null })
      .where(and(eq(deployments.id, deployment.id), eq(deployments.status, deployment.status)));
    context.logger.warn('deployment_rate_limited', {
      deployment_id: deployment.id,
      provider: adapter.id,
      retry_at: err.retryAt.toISOString(),
    });
    throw err;
  }
  const known = KNOWN_FAILURES.some((kind) => err instanceof kind);
  const reason = known && err instanceof Error ? err.message : 'internal error';
  if (!known) context.logger.error('deployment_crashed', { error: err });
  const back = rollbackTarget(run);
  await withTurn(db, deployment, async (tx) => {
    await move(tx, deployment, 'failed', { reason, ...ENDED_BY_ENGINE });
    if (!back) return;
    try {
      await adapter.rollback({ ...target, db: tx }, back.ref);
    } catch (error) {
      context.logger.error('deployment_rollback_failed', {
        deployment_id: deployment.id,
        provider: adapter.id,
        error,
      });
      return;
    }
    await move(tx, deployment, 'rolled_back', {
      reason: `automatic rollback: ${reason}`,
      set: { rolledBackToId: back.id },
    });
    await auditDeployment(tx, {
      workspaceId: run.workspaceId,
      deploymentId: deployment.id,
      action: 'deployment.rolled_back',
      metadata: { automatic: true, reason, to: back.id, provider: adapter.id },
    });
  });
}
