import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { signArtifactUrl } from '../../core/artifact-url';
import {
  type DeployConfig,
  DeployConfigSchema,
  missingRequiredEnv,
} from '../../core/deploy/config';
import { runHealthCheck } from '../../core/deploy/health';
import { resolveImageTemplate } from '../../core/deploy/image-reference';
import { ACTIVE_STATES, type DeploymentState } from '../../core/deploy/state-machine';
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
  outbox,
  type Project,
  projects,
} from '../../db/schema';
import { DEPLOYMENTS_QUEUE, type DeploymentsMessage } from '../../platform/queues';
import type { TaskContext } from '../../platform/services';
import {
  ArtifactError,
  publishArtifact,
  publishOutputManifest,
  readArtifact,
  readBlob,
  readOutputManifest,
} from '../hosting/publish';
import { answerSiteRequest } from '../hosting/site-host';
import { previewCommentMarker, reportToRepository } from '../reporting/report';
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
import { auditDeployment } from './audit';
import { environmentCredentials } from './credentials';
import { buildRefClosed, retireIfRefClosed } from './retire';
import { lockEnvironment, type TransitionOptions, transitionDeployment } from './transition';

const EDGE = 'edge';

class DeployFailure extends Error {}

/**
 * Someone else moved the engine's deployment on meanwhile (a manual rollback, the stale-deployment
 * sweep): the engine stops where it is and leaves their change be.
 */
class StateChanged extends Error {
  constructor(
    readonly deploymentId: string,
    readonly expected: DeploymentState,
    readonly actual: DeploymentState | null,
  ) {
    super(`The deployment is ${actual ?? 'gone'}, no longer ${expected}`);
  }
}

/** How the engine reaches external platforms and waits between polls; tests pass their own. */
export interface EngineOptions {
  /** For an external platform's API, the health checks of what it deployed, and commit statuses. */
  fetch?: Fetch;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Moves the engine's deployment on from the state the engine last left it in, or throws. */
async function move(
  db: Database | Transaction,
  deployment: Deployment,
  to: DeploymentState,
  options: Omit<TransitionOptions, 'when'> = {},
) {
  const moved = await transitionDeployment(db, deployment.id, deployment.status, to, options);
  if (!moved.ok) throw new StateChanged(deployment.id, deployment.status, moved.status);
  deployment.status = to;
}

/**
 * Changes what the environment serves for the engine's deployment, under the environment's lock
 * and only while the deployment is still where the engine left it: a rollback or the sweep that
 * ended it meanwhile is never undone.
 */
async function withTurn<T>(
  db: Database,
  deployment: Deployment,
  change: (tx: Transaction) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    await lockEnvironment(tx, deployment.environmentId);
    const [row] = await tx
      .select({ status: deployments.status })
      .from(deployments)
      .where(eq(deployments.id, deployment.id))
      .for('update');
    if (row?.status !== deployment.status) {
      throw new StateChanged(deployment.id, deployment.status, row?.status ?? null);
    }
    return change(tx);
  });
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
  return async (request: Request) => {
    const pending: Promise<unknown>[] = [];
    const response =
      (await answerSiteRequest(request, env, (promise) => pending.push(promise))) ??
      new Response('Not a site host', { status: 404 });
    const body = await response.arrayBuffer();
    await Promise.allSettled(pending);
    return new Response(body, response);
  };
}

function urlFor(env: Env, host: string) {
  return `${new URL(env.PUBLIC_URL).protocol}//${host}`;
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
async function execute(context: TaskContext, deployment: Deployment, options: EngineOptions) {
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
      fetch: inProcessFetch(env),
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

/** The delayed message normally resumes a canary step on time; the cron steps in after this. */
const RESUME_GRACE_MS = 30_000;

/** Cron: announces environments whose paused canary step is due, in case its message was lost. */
export async function resumeDueCanaries(db: Database, now: Date) {
  const due = await db
    .selectDistinct({ environmentId: deployments.environmentId })
    .from(deployments)
    .where(
      and(
        inArray(deployments.status, ACTIVE_STATES),
        isNull(deployments.startedAt),
        lt(deployments.resumeAt, new Date(now.getTime() - RESUME_GRACE_MS)),
      ),
    );
  if (due.length === 0) return 0;
  await db.insert(outbox).values(
    due.map((row) => ({
      topic: DEPLOYMENTS_QUEUE,
      payload: { type: 'deployment.requested', environment_id: row.environmentId },
    })),
  );
  return due.length;
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

/** The output's files, from its manifest (read blob by blob on demand) or its archive. */
async function outputFilesOf(env: Env, build: Build) {
  if (build.outputManifestKey) {
    const manifest = await readOutputManifest(env, build.outputManifestKey);
    return Object.entries(manifest.files).map(([path, file]) => ({
      path: path.slice(1),
      size: file.size,
      read: () => readBlob(env, file.hash, path),
    }));
  }
  const files = build.artifactKey ? await readArtifact(env, build.artifactKey) : [];
  return files.map((file) => ({
    path: file.path,
    size: file.data.byteLength,
    read: async () => file.data,
  }));
}

/**
 * The build as an adapter sees it: its commit, its image (the environment's template filled in),
 * a signed link to download its output, and its output files, read on demand.
 */
async function artifactOf(
  context: TaskContext,
  build: Build,
  image: string | undefined,
): Promise<Artifact> {
  const { ENCRYPTION_KEY, PUBLIC_URL } = context.services.config;
  const files = await outputFilesOf(context.env, build);
  const downloadUrl =
    build.artifactKey || build.outputManifestKey
      ? await signArtifactUrl({
          encryptionKey: ENCRYPTION_KEY,
          publicUrl: PUBLIC_URL,
          buildId: build.id,
        })
      : undefined;
  return {
    buildId: build.id,
    ...(build.commitSha ? { commitSha: build.commitSha } : {}),
    ...(image ? { image } : {}),
    ...(downloadUrl ? { downloadUrl } : {}),
    files: files.map(({ path, size }) => ({ path, size })),
    async read(path) {
      const file = files.find((candidate) => candidate.path === path);
      if (!file) throw new ArtifactError(`The build output has no ${path}`);
      return file.read();
    },
  };
}

interface Promotion {
  /** Set when the provider switches production to the promoted deployment itself. */
  nativeRef?: ProviderRef;
  /** Which of the two happened and why, kept as the reason of the move to `deploying`. */
  reason: string;
}

/**
 * How a promoted deployment reaches production. When the promoted deployment ran on the same
 * adapter and target (e.g. one Vercel project for preview and production) and the provider
 * promotes natively, its provider deployment is switched to; otherwise the build is deployed again.
 */
async function promotionOf(
  db: Database,
  deployment: Deployment,
  environment: Environment,
  adapter: DeployAdapter,
): Promise<Promotion | undefined> {
  const sourceId = deployment.promotedFromId;
  if (!sourceId) return undefined;
  const redeploy = (why: string) => ({
    reason: `promote of ${sourceId} by redeploying the build: ${why}`,
  });
  const [row] = await db
    .select({ source: deployments, environment: environments })
    .from(deployments)
    .innerJoin(environments, eq(environments.id, deployments.environmentId))
    .where(eq(deployments.id, sourceId));
  if (!row) return redeploy('the promoted deployment is gone');
  const { source } = row;
  if (source.platform !== deployment.platform) {
    return redeploy(`it ran on ${source.platform}, production deploys to ${deployment.platform}`);
  }
  if (adapter.capabilities.promote !== 'native') {
    return redeploy(`${adapter.name} has no native promote`);
  }
  if (source.status !== 'live') return redeploy(`it is ${source.status} now`);
  if (!source.providerRef) return redeploy(`it has no ${adapter.name} deployment`);
  const here = adapter.targetKey(environment.deployConfig.adapter);
  if (!here || here !== adapter.targetKey(row.environment.deployConfig.adapter)) {
    return redeploy(`its environment deploys to another ${adapter.name} target`);
  }
  return {
    nativeRef: source.providerRef,
    reason:
      `native promote of ${sourceId}: ${adapter.name} switches production to its deployment ` +
      `${source.providerRef.id}, nothing is redeployed`,
  };
}

/**
 * The traffic shares production is promoted through: all of it for a native promotion (by the
 * canary's steps for a canary); for a deployment of ours that went up without production traffic
 * (blue-green, or a canary at its first step), the rest.
 */
function promotedShares(
  adapter: DeployAdapter,
  strategy: Deployment['strategy'],
  steps: number[],
  promotion: Promotion | undefined,
): number[] {
  if (promotion?.nativeRef) return strategy === 'canary' ? steps : [100];
  if (adapter.capabilities.promote !== 'native' || strategy === 'all_at_once') return [];
  return strategy === 'canary' ? steps.slice(1) : [100];
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

const REPORTED_STATES = { live: 'success', failed: 'failure', rolled_back: 'failure' } as const;

/** The outcome as a commit status on the build's commit (and the preview URL on its pull request). */
async function reportDeployment(
  context: TaskContext,
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
  // A branch-head build has no commit of its own to carry a status.
  if (!build.commitSha || !Object.hasOwn(REPORTED_STATES, deployment.status)) return;
  const status = deployment.status as keyof typeof REPORTED_STATES;
  const description = {
    live: `Live on ${deployment.stage}`,
    failed: `Failed: ${deployment.error}`,
    // Without an error it was rolled back by hand, not for failing.
    rolled_back: deployment.error ? `Failed and rolled back: ${deployment.error}` : 'Rolled back',
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
          // One comment per environment and pull request, edited by each new preview.
          marker: previewCommentMarker(deployment.environmentId),
          body: `Preview of ${build.commitSha.slice(0, 7)} (build #${build.number}) is live: ${deployment.url}`,
        }
      : undefined,
  );
}

/**
 * Runs the environment's queued deployments one at a time, oldest first. Taking the turn locks
 * the environment row, so two consumers never deploy to one environment at once; every later
 * change of what the environment serves takes the same lock (`withTurn`).
 */
export async function drainEnvironment(
  context: TaskContext,
  environmentId: string,
  options: EngineOptions = {},
) {
  const db = context.services.db();
  for (;;) {
    const next = await db.transaction(async (tx) => {
      await lockEnvironment(tx, environmentId);
      const [active] = await tx
        .select()
        .from(deployments)
        .where(
          and(
            eq(deployments.environmentId, environmentId),
            inArray(deployments.status, ACTIVE_STATES),
          ),
        );
      if (active?.startedAt) return undefined;
      // A canary step still serving its time.
      if (active?.resumeAt && active.resumeAt > new Date()) return undefined;
      if (active) {
        // Handed back on a provider's rate limit, or a canary step done: this delivery resumes it.
        await tx
          .update(deployments)
          .set({ startedAt: new Date(), resumeAt: null })
          .where(eq(deployments.id, active.id));
        return active;
      }
      const [queued] = await tx
        .select()
        .from(deployments)
        .where(and(eq(deployments.environmentId, environmentId), eq(deployments.status, 'queued')))
        .orderBy(asc(deployments.createdAt))
        .limit(1)
        .for('update');
      if (!queued) return undefined;
      // Locked above, so still queued: a cancel waits for this turn, then finds it taken.
      const taken = await transitionDeployment(tx, queued.id, 'queued', 'validating');
      if (!taken.ok) throw new StateChanged(queued.id, 'queued', taken.status);
      return taken.deployment;
    });
    if (!next) return;
    try {
      await execute(context, next, options);
    } catch (err) {
      if (!(err instanceof StateChanged)) throw err;
      // A manual rollback or the sweep ended it meanwhile: theirs is the last word.
      context.logger.info('deployment_ended_elsewhere', {
        deployment_id: err.deploymentId,
        expected: err.expected,
        actual: err.actual,
      });
    }
    // Its branch or pull request closed meanwhile: not reported, it serves no one.
    if (await retireIfRefClosed(db, next.id)) {
      context.logger.info('deployment_retired', { deployment_id: next.id });
      continue;
    }
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
    /** `POST /api/deployments/{id}/promote`: the deployment being promoted. */
    promotedFromId?: string | null;
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
      promotedFromId: input.promotedFromId ?? null,
    })
    .onConflictDoNothing({ target: deployments.requestKey });
  const [row] = await db
    .select()
    .from(deployments)
    .where(eq(deployments.requestKey, input.requestKey));
  return row!;
}

export async function handleDeploymentsMessage(message: DeploymentsMessage, context: TaskContext) {
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
  if (message.target === 'preview' && (await buildRefClosed(db, message.build_id))) {
    context.logger.info('deploy_skipped_ref_closed', { build_id: message.build_id });
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

const STALE_REASON = 'the deploy engine stopped answering';

/**
 * Cron: fails deployments whose consumer died mid-way, so their environment's queue moves on,
 * and announces the environments so their next queued deployment runs. Each goes through the
 * guarded transition under its environment's lock: one that moved on or was resumed since it
 * was found stale is left as it is.
 */
export async function failStaleDeployments(db: Database, now: Date) {
  const cutoff = new Date(now.getTime() - STALE_DEPLOYMENT_MS);
  const stale = and(
    inArray(deployments.status, ACTIVE_STATES),
    or(
      lt(deployments.startedAt, cutoff),
      // Handed back on a rate limit and never resumed (its message ran out of retries).
      and(isNull(deployments.startedAt), lt(deployments.updatedAt, cutoff)),
    ),
  );
  const found = await db
    .select({
      id: deployments.id,
      status: deployments.status,
      environmentId: deployments.environmentId,
    })
    .from(deployments)
    .where(stale);
  let failed = 0;
  for (const row of found) {
    const done = await db.transaction(async (tx) => {
      await lockEnvironment(tx, row.environmentId);
      const moved = await transitionDeployment(tx, row.id, row.status, 'failed', {
        reason: STALE_REASON,
        when: stale,
      });
      if (!moved.ok) return false;
      // A canary that died mid-way leaves production to what served before it.
      await tx
        .update(environments)
        .set({ canaryDeploymentId: null, canaryPercent: 0 })
        .where(eq(environments.canaryDeploymentId, row.id));
      await tx.insert(outbox).values({
        topic: DEPLOYMENTS_QUEUE,
        payload: { type: 'deployment.requested', environment_id: row.environmentId },
      });
      return true;
    });
    if (done) failed++;
  }
  return failed;
}
