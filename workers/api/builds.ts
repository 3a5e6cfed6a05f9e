import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, desc, eq, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { type Build, buildSteps, builds, projects } from '../../db/schema';
import { buildStatus } from '../../db/schema/enums';
import {
  announceBuilds,
  BRANCH_HEAD,
  type BuildRequest,
  createBuild,
  targetFor,
  withdrawFromHub,
} from '../../domain/builds/create';
import { FINISHED_STATUSES, WAITING_STATUSES } from '../../domain/builds/statuses';
import { announceBuildStatus } from '../../domain/reporting/build-status';
import { runnerHub } from '../../platform/durable-objects';
import { ApiError } from '../../platform/errors';
import { recordAudit } from '../audit';
import { authorizeProject } from '../auth/authorize';
import type { HonoEnv } from '../context';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { BranchSchema } from './projects';

export const BUILDS_PAGE_DEFAULT = 20;
export const BUILDS_PAGE_MAX = 100;

const BuildStatusSchema = z.enum(buildStatus.enumValues);

const BuildSchema = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    number: z.number().int().openapi({ description: 'Per project, increasing' }),
    status: BuildStatusSchema,
    trigger: z.enum(['push', 'pull_request', 'tag', 'manual', 'retry', 'api']),
    target: z.enum(['production', 'preview']),
    branch: z.string().nullable(),
    commit_sha: z
      .string()
      .nullable()
      .openapi({
        description:
          'The commit built; null for a branch build started without one until its runner has ' +
          'checked out the branch head and reported it',
      }),
    commit_message: z.string().nullable(),
    tag: z.string().nullable(),
    pull_request: z.number().int().nullable(),
    attempt: z.number().int(),
    retry_of: z.uuid().nullable(),
    runner_id: z.uuid().nullable(),
    error: z.string().nullable(),
    cancel_requested_at: z.iso.datetime().nullable(),
    queued_at: z.iso.datetime(),
    started_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi('Build');

const BuildStepSchema = z
  .object({
    position: z.number().int(),
    name: z.string(),
    command: z.string(),
    status: z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'canceled']),
    exit_code: z.number().int().nullable(),
    started_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
  })
  .openapi('BuildStep');

const BuildWithStepsSchema = BuildSchema.extend({ steps: z.array(BuildStepSchema) }).openapi(
  'BuildWithSteps',
);

const BuildPageSchema = z
  .object({ builds: z.array(BuildSchema), next_cursor: z.string().nullable() })
  .openapi('BuildPage');

const CommitShaSchema = z
  .string()
  .regex(/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/, 'a full 40 or 64 hex digit commit sha')
  .transform((sha) => sha.toLowerCase());

const TriggerBuildSchema = z
  .strictObject({
    branch: BranchSchema.optional().openapi({
      description: 'Defaults to the production branch when no commit is given either',
    }),
    commit_sha: CommitShaSchema.optional().openapi({
      description: 'Without it, the runner builds the head of `branch` at checkout time',
    }),
  })
  .openapi('TriggerBuild');

const ListQuerySchema = z.object({
  status: BuildStatusSchema.optional(),
  branch: z.string().min(1).max(255).optional(),
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,9}$/)
    .optional()
    .openapi({ description: '`next_cursor` of the previous page' }),
  limit: z.coerce.number().int().min(1).max(BUILDS_PAGE_MAX).default(BUILDS_PAGE_DEFAULT),
});

const iso = (date: Date | null) => date?.toISOString() ?? null;

function toBuild(row: Build): z.infer<typeof BuildSchema> {
  return {
    id: row.id,
    project_id: row.projectId,
    number: row.number,
    status: row.status,
    trigger: row.trigger,
    target: row.target,
    branch: row.branch,
    commit_sha: row.commitSha,
    commit_message: row.commitMessage,
    tag: row.tag,
    pull_request: row.pullRequest,
    attempt: row.attempt,
    retry_of: row.retryOf,
    runner_id: row.runnerId,
    error: row.error,
    cancel_requested_at: iso(row.cancelRequestedAt),
    queued_at: row.queuedAt.toISOString(),
    started_at: iso(row.startedAt),
    finished_at: iso(row.finishedAt),
    created_at: row.createdAt.toISOString(),
  };
}

/** The build, if the caller may act on its project with `minimum`; 404 for anyone outside. */
async function authorizedBuild(
  c: Context<HonoEnv>,
  buildId: string,
  minimum: 'viewer' | 'developer',
) {
  const [build] = await c.get('services').db().select().from(builds).where(eq(builds.id, buildId));
  const notFound = new ApiError('not_found', 'Build not found');
  if (!build) throw notFound;
  const access = await authorizeProject(c, build.projectId, minimum).catch((err: unknown) => {
    throw err instanceof ApiError && err.code === 'not_found' ? notFound : err;
  });
  return { build, access };
}

const ProjectParams = z.object({ id: z.uuid() });
const BuildParams = z.object({ id: z.uuid() });

export const buildRoutes = newRouter();

buildRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/projects/{id}/builds',
    tags: ['builds'],
    summary: 'Builds of a project, newest first, with filters and cursor pagination',
    request: { params: ProjectParams, query: ListQuerySchema },
    responses: {
      200: { description: 'A page of builds', ...json(BuildPageSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    await authorizeProject(c, id, 'viewer');
    const conditions: SQL[] = [eq(builds.projectId, id)];
    if (query.status) conditions.push(eq(builds.status, query.status));
    if (query.branch) conditions.push(eq(builds.branch, query.branch));
    if (query.cursor) conditions.push(lt(builds.number, Number(query.cursor)));
    const rows = await c
      .get('services')
      .db()
      .select()
      .from(builds)
      .where(and(...conditions))
      .orderBy(desc(builds.number))
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const next = rows.length > query.limit ? String(page.at(-1)?.number) : null;
    return c.json({ builds: page.map(toBuild), next_cursor: next }, 200);
  },
);

buildRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/projects/{id}/builds',
    tags: ['builds'],
    summary: 'Start a build of a branch or a commit (developer)',
    description:
      'With `commit_sha`, that commit is built (on `branch` if given). With only `branch`, or ' +
      'nothing (the production branch), the runner builds the branch head it finds at checkout. ' +
      'The target is production for the production branch and preview otherwise. Waiting builds ' +
      'of the same branch are canceled when the project setting `cancel_superseded` is on.',
    request: { params: ProjectParams, ...jsonBody(TriggerBuildSchema) },
    responses: {
      201: { description: 'Queued', ...json(BuildSchema) },
      409: {
        ...openApiErrorResponses[400],
        description: 'The project has no repository to build from',
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeProject(c, id, 'developer');
    const db = c.get('services').db();
    const [project] = await db.select().from(projects).where(eq(projects.id, id));
    if (!project) throw new ApiError('not_found', 'Project not found');
    if (!project.repoUrl) {
      throw new ApiError('conflict', 'The project has no repository URL to build from');
    }
    const branch = input.branch ?? (input.commit_sha ? null : project.productionBranch);
    const request: BuildRequest = {
      projectId: id,
      commitSha: input.commit_sha ?? BRANCH_HEAD,
      branch,
      trigger: c.get('principal')?.kind === 'token' ? 'api' : 'manual',
      target: targetFor(project, branch),
    };
    const created = await db.transaction(async (tx) => {
      const result = await createBuild(tx, request);
      await recordAudit(tx, c, {
        action: 'build.triggered',
        workspaceId: access.workspaceId,
        actorRole: access.role,
        targetType: 'build',
        targetId: result.build.id,
        metadata: { branch, commit_sha: input.commit_sha ?? null, superseded: result.superseded },
      });
      return result;
    });
    await announceBuilds(c.env, db, [created], c.get('logger'));
    return c.json(toBuild(created.build), 201);
  },
);

buildRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/builds/{id}',
    tags: ['builds'],
    summary: 'One build with its steps',
    request: { params: BuildParams },
    responses: {
      200: { description: 'The build', ...json(BuildWithStepsSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { build } = await authorizedBuild(c, id, 'viewer');
    const steps = await c
      .get('services')
      .db()
      .select()
      .from(buildSteps)
      .where(eq(buildSteps.buildId, id))
      .orderBy(asc(buildSteps.position));
    return c.json(
      {
        ...toBuild(build),
        steps: steps.map((step) => ({
          position: step.position,
          name: step.name,
          command: step.command,
          status: step.status,
          exit_code: step.exitCode,
          started_at: iso(step.startedAt),
          finished_at: iso(step.finishedAt),
        })),
      },
      200,
    );
  },
);

buildRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/builds/{id}/cancel',
    tags: ['builds'],
    summary: 'Cancel a build (developer)',
    description:
      'A build still waiting for a runner is canceled at once and leaves the queue. A running ' +
      'build gets `cancel_requested_at` and its runner is told to stop; it becomes `canceled` ' +
      'when the runner reports back (or times out).',
    request: { params: BuildParams },
    responses: {
      200: { description: 'Canceled, or cancel requested', ...json(BuildSchema) },
      409: { ...openApiErrorResponses[400], description: 'The build has already finished' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { build, access } = await authorizedBuild(c, id, 'developer');
    const db = c.get('services').db();
    const cancel = (how: 'now' | 'on_runner') =>
      db.transaction(async (tx) => {
        const [row] = await tx
          .update(builds)
          .set(
            how === 'now'
              ? { status: 'canceled', error: 'canceled on request', finishedAt: new Date() }
              : { cancelRequestedAt: sql`coalesce(${builds.cancelRequestedAt}, now())` },
          )
          .where(
            and(
              eq(builds.id, id),
              how === 'now'
                ? inArray(builds.status, [...WAITING_STATUSES])
                : eq(builds.status, 'running'),
            ),
          )
          .returning();
        if (row) {
          await recordAudit(tx, c, {
            action: how === 'now' ? 'build.canceled' : 'build.cancel_requested',
            workspaceId: access.workspaceId,
            actorRole: access.role,
            targetType: 'build',
            targetId: row.id,
            metadata: { number: row.number },
          });
        }
        return row;
      });

    const canceled = await cancel('now');
    if (canceled) {
      await withdrawFromHub(c.env, access.workspaceId, [id], c.get('logger'));
      await announceBuildStatus(c.env, [id], c.get('logger'));
      return c.json(toBuild(canceled), 200);
    }
    const requested = await cancel('on_runner');
    if (!requested) {
      throw new ApiError('conflict', `Build #${build.number} has already finished`, {
        status: build.status,
      });
    }
    const { state } = await runnerHub(c.env, access.workspaceId).cancel(id, 'Canceled on request');
    // The runner lost its lease meanwhile and the build waits again: it ends here instead.
    const requeued = state === 'signalled' ? undefined : await cancel('now');
    if (requeued) await announceBuildStatus(c.env, [id], c.get('logger'));
    return c.json(toBuild(requeued ?? requested), 200);
  },
);

buildRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/builds/{id}/retry',
    tags: ['builds'],
    summary: 'Build the same commit again as a new build (developer)',
    request: { params: BuildParams },
    responses: {
      201: { description: 'The new build, with `retry_of` set', ...json(BuildSchema) },
      409: { ...openApiErrorResponses[400], description: 'The build has not finished yet' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { build, access } = await authorizedBuild(c, id, 'developer');
    if (!FINISHED_STATUSES.some((status) => status === build.status)) {
      throw new ApiError('conflict', `Build #${build.number} is still ${build.status}`);
    }
    const db = c.get('services').db();
    const created = await db.transaction(async (tx) => {
      const result = await createBuild(tx, {
        projectId: build.projectId,
        commitSha: build.commitSha,
        branch: build.branch,
        trigger: 'retry',
        target: build.target,
        tag: build.tag,
        pullRequest: build.pullRequest,
        commitMessage: build.commitMessage,
        retryOf: build.id,
      });
      await recordAudit(tx, c, {
        action: 'build.retried',
        workspaceId: access.workspaceId,
        actorRole: access.role,
        targetType: 'build',
        targetId: result.build.id,
        metadata: { retry_of: build.id },
      });
      return result;
    });
    await announceBuilds(c.env, db, [created], c.get('logger'));
    return c.json(toBuild(created.build), 201);
  },
);
