import { createRoute, z } from '@hono/zod-openapi';
import {
  announceBuilds,
  BRANCH_HEAD,
  type BuildRequest,
  targetFor,
} from '../../../domain/builds/create';
import { buildsOf, startBuild } from '../../../domain/builds/queries';
import { findProject } from '../../../domain/projects/projects';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeProject } from '../../auth/authorize';
import { errorResponse, openApiErrorResponses } from '../../errors';
import { recordRequestSpan, traceparentOf } from '../../middleware/trace';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import { BuildSchema, BuildStatusSchema, BuildTriggerSchema, toBuild } from '../builds/schemas';
import { BranchSchema, ProjectParams } from './schemas';

export const BUILDS_PAGE_DEFAULT = 20;
export const BUILDS_PAGE_MAX = 100;

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
  trigger: BuildTriggerSchema.optional().openapi({
    description:
      'What started the build: a push, pull request, tag, manual start, retry or API call',
  }),
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,9}$/)
    .optional()
    .openapi({ description: '`next_cursor` of the previous page' }),
  limit: z.coerce.number().int().min(1).max(BUILDS_PAGE_MAX).default(BUILDS_PAGE_DEFAULT),
});

/** `/api/projects/{id}/builds`: a project's builds, and starting one. */
export const projectBuildRoutes = newRouter();

projectBuildRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/builds',
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
    const { page, more } = await buildsOf(
      c.get('services').db(),
      id,
      {
        status: query.status,
        branch: query.branch,
        trigger: query.trigger,
        before: query.cursor ? Number(query.cursor) : undefined,
      },
      query.limit,
    );
    const next = more ? String(page.at(-1)?.number) : null;
    return c.json({ builds: page.map(toBuild), next_cursor: next }, 200);
  },
);

projectBuildRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/builds',
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
      409: errorResponse('The project has no repository to build from'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeProject(c, id, 'developer');
    const db = c.get('services').db();
    const project = await findProject(db, id);
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
      traceparent: traceparentOf(c),
    };
    const created = await startBuild(
      db,
      request,
      auditFor(c, access),
      'build.triggered',
      (result) => ({
        branch,
        commit_sha: input.commit_sha ?? null,
        superseded: result.superseded,
      }),
    );
    await announceBuilds(c.env, db, [created], {
      logger: c.get('logger'),
      metrics: c.get('services').metrics,
    });
    await recordRequestSpan(c, [created.build.id], 201);
    return c.json(toBuild(created.build), 201);
  },
);
