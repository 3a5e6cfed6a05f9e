import { createRoute, z } from '@hono/zod-openapi';
import { encryptSecret } from '../../../core/secret-box';
import { refreshWatches } from '../../../domain/polling/watch';
import { previewDetection } from '../../../domain/projects/detect-preview';
import { createProject, projectsOf } from '../../../domain/projects/projects';
import { randomSecret } from '../../../platform/crypto';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeWorkspace } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { skipIdempotencyStorage } from '../../middleware/idempotency';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import {
  CreatedProjectSchema,
  CreateProjectSchema,
  DetectPreviewRequestSchema,
  DetectPreviewSchema,
  ProjectSchema,
  projectChanges,
  showProjects,
  toProject,
} from '../projects/schemas';
import { WorkspaceParams } from './members';

/** `/api/workspaces/{id}/projects`: a workspace's projects, and new ones. */
export const workspaceProjectRoutes = newRouter();

workspaceProjectRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/projects',
    tags: ['projects'],
    summary: 'Create a project (developer); it starts with production and preview environments',
    request: { params: WorkspaceParams, ...jsonBody(CreateProjectSchema) },
    responses: {
      201: { description: 'Created', ...json(CreatedProjectSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeWorkspace(c, id, 'developer');
    const { db, config } = c.get('services');
    const webhookSecret = randomSecret('whsec_');
    // The response carries the secret once; it must not sit in the idempotency store.
    skipIdempotencyStorage(c);
    const created = await createProject(
      db(),
      {
        workspaceId: id,
        slug: input.slug,
        ...projectChanges(input),
        name: input.name,
        webhookSecretEncrypted: await encryptSecret(config.ENCRYPTION_KEY, webhookSecret),
      },
      auditFor(c, access),
    );
    if (!created) throw new ApiError('conflict', `The slug "${input.slug}" is taken here`);
    await refreshWatches(c.env, id, c.get('logger'));
    // Nothing of a new project is live yet.
    return c.json({ ...toProject(created, null), webhook_secret: webhookSecret }, 201);
  },
);

workspaceProjectRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/projects',
    tags: ['projects'],
    summary: 'Projects of a workspace',
    request: { params: WorkspaceParams },
    responses: {
      200: { description: 'Projects', ...json(z.object({ projects: z.array(ProjectSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeWorkspace(c, id, 'viewer');
    const rows = await projectsOf(c.get('services').db(), id);
    return c.json({ projects: await showProjects(c, rows) }, 200);
  },
);

workspaceProjectRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/projects/detect-preview',
    tags: ['projects'],
    summary: 'Preview what the first build will detect in a repository (developer)',
    description:
      'Detection proper runs on a runner, in the checkout of each build. The platform can read ' +
      'only a public github.com repository (GitHub’s contents API, without credentials, at most ' +
      'a few dozen requests): for one it runs the same detection (`detected`, or `failed` with ' +
      'the reason, e.g. a root directory that does not exist). Anything else — a local path, ' +
      'another host, a private repository, GitHub’s rate limit — answers `deferred`: the first ' +
      'build detects. Nothing is stored.',
    request: { params: WorkspaceParams, ...jsonBody(DetectPreviewRequestSchema) },
    responses: {
      200: { description: 'The preview', ...json(DetectPreviewSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    await authorizeWorkspace(c, id, 'developer');
    const { config } = c.get('services');
    const preview = await previewDetection(
      { repoUrl: input.repo_url, branch: input.production_branch, rootDir: input.root_dir },
      {
        apiBase: config.GITHUB_API_BASE_URL ?? 'https://api.github.com',
        fetch: (...args) => fetch(...args),
      },
    );
    return c.json(preview, 200);
  },
);
