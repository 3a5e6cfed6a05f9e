import { z } from '@hono/zod-openapi';
import { DEPLOYMENT_STATES } from '../../../core/deploy/state-machine';
import type { Deployment } from '../../../db/schema';
import type { DeploymentInContext } from '../../../domain/deployments/queries';
import { iso } from '../../openapi';

export const StrategySchema = z.enum(['all_at_once', 'blue_green', 'canary']);
export const StageSchema = z.enum(['preview', 'production']);

export const DeploymentSchema = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    build_id: z.uuid(),
    environment_id: z.uuid(),
    stage: StageSchema,
    strategy: StrategySchema,
    platform: z.string(),
    status: z.enum(DEPLOYMENT_STATES),
    url: z.string().nullable().openapi({
      description:
        'The deployment’s own address, in full (the edge host’s takes the scheme and port of the platform’s URL, e.g. `http://<label>--<project>.localhost:8787` locally); null until it is deployed',
    }),
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

export function toDeployment(row: Deployment) {
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

/** A deployment as lists and its page show it: with its build and environment. */
export const DeploymentItemSchema = DeploymentSchema.extend({
  build: z.object({
    number: z.number().int(),
    commit_sha: z.string().nullable(),
    branch: z.string().nullable(),
  }),
  environment: z.object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(['production', 'preview']),
  }),
  serving: z.boolean().openapi({
    description:
      'Whether it serves now: production’s live deployment or its canary, or a live preview ' +
      '(at its own address). A production deployment replaced by a later one still says ' +
      '`live` (it can be rolled back to), but is not serving',
  }),
}).openapi('DeploymentItem');

export function toDeploymentItem(row: DeploymentInContext) {
  const { deployment, build, environment } = row;
  return {
    ...toDeployment(deployment),
    build: { number: build.number, commit_sha: build.commitSha, branch: build.branch },
    environment: { id: environment.id, name: environment.name, kind: environment.kind },
    // A preview serves at its own address while live; production serves one (and a canary).
    serving:
      environment.kind === 'preview'
        ? deployment.status === 'live'
        : environment.liveDeploymentId === deployment.id ||
          environment.canaryDeploymentId === deployment.id,
  };
}
