import { and, eq } from 'drizzle-orm';
import { formatTraceparent } from '../../core/trace/context';
import { OpenSpan } from '../../core/trace/span';
import type { Database, Transaction } from '../../db/client';
import { builds, deployments, environments } from '../../db/schema';
import { DEPLOYMENTS_QUEUE, type DeploymentsMessage } from '../../platform/queues';
import type { TaskContext } from '../../platform/services';
import { recordBuildSpans } from '../tracing/spans';
import { EDGE } from './adapters';
import { buildRefClosed } from './retire';

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
    /** The trace context the deployment continues; without one its run starts a trace. */
    traceparent?: string | null;
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
      traceparent: input.traceparent ?? null,
    })
    .onConflictDoNothing({ target: deployments.requestKey });
  const [row] = await db
    .select()
    .from(deployments)
    .where(eq(deployments.requestKey, input.requestKey));
  return row!;
}

/**
 * `build.succeeded`: the deployment the environment of the build's target makes of it on its
 * own (once, whatever the deliveries). Returns the environment whose queue then runs it, or
 * undefined when none is to be made. The time from the build's end to here, most of it the
 * message waiting in the queue, is the first span of the timeline's `deploy` phase; the
 * deployment continues the trace from it.
 */
export async function requestAutoDeployment(
  context: TaskContext,
  message: Extract<DeploymentsMessage, { type: 'build.succeeded' }>,
): Promise<string | undefined> {
  const db = context.services.db();
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
    return undefined;
  }
  if (!environment.autoDeploy) {
    context.logger.info('deploy_skipped_auto_deploy_off', { build_id: message.build_id });
    return undefined;
  }
  if (message.target === 'preview' && (await buildRefClosed(db, message.build_id))) {
    context.logger.info('deploy_skipped_ref_closed', { build_id: message.build_id });
    return undefined;
  }
  const [build] = await db
    .select({ finishedAt: builds.finishedAt })
    .from(builds)
    .where(eq(builds.id, message.build_id));
  const queued = new OpenSpan(
    `${DEPLOYMENTS_QUEUE} process`,
    'consumer',
    message.traceparent,
    build?.finishedAt?.getTime(),
  ).set({
    'messaging.system': 'cloudflare_queues',
    'messaging.destination.name': DEPLOYMENTS_QUEUE,
    'messaging.operation.type': 'process',
  });
  const deployment = await requestDeployment(db, {
    traceparent: formatTraceparent(queued.context),
    requestKey: `build:${message.build_id}:${environment.id}`,
    buildId: message.build_id,
    projectId: message.project_id,
    environmentId: environment.id,
    stage: message.target,
    strategy: environment.strategy,
  });
  // A redelivered message finds the deployment the first one asked for, and records no span.
  if (deployment.traceparent === formatTraceparent(queued.context)) {
    await recordBuildSpans({ db, config: context.services.config, logger: context.logger }, [
      { buildId: message.build_id, span: queued.end(), phase: 'deploy' },
    ]);
  }
  return environment.id;
}
