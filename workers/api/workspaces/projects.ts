import { createRoute, z } from '@hono/zod-openapi';
import { encryptSecret } from '../../../core/secret-box';
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
