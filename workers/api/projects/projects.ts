import { createRoute, z } from '@hono/zod-openapi';
import { refreshWatches } from '../../../domain/polling/watch';
import { projectOverviewForMember } from '../../../domain/projects/overview';
import { deleteProject, updateProject } from '../../../domain/projects/projects';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeProject, loadProjectWith } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import {
  ProjectParams,
  ProjectSchema,
  projectChanges,
  showProjects,
  toProject,
  UpdateProjectSchema,
} from './schemas';

/** `/api/projects/{id}`: read, change and delete a project. */
export const projectRoutes = newRouter();

projectRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    tags: ['projects'],
    summary: 'One project (404 unless you are a member of its workspace)',
    request: { params: ProjectParams },
    responses: {
      200: { description: 'The project', ...json(ProjectSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { config } = c.get('services');
    const { found } = await loadProjectWith(c, id, 'viewer', (db, projectId, userId) =>
      projectOverviewForMember(db, config, projectId, userId),
    );
    const { productionUrl, latestBuild } = found.overview;
    return c.json(toProject(found.project, productionUrl, latestBuild), 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/{id}',
    tags: ['projects'],
    summary: 'Change project settings (developer)',
    request: { params: ProjectParams, ...jsonBody(UpdateProjectSchema) },
    responses: {
      200: { description: 'Updated', ...json(ProjectSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeProject(c, id, 'developer');
    const changes = projectChanges(input);
    if (Object.keys(changes).length === 0) {
      throw new ApiError('validation_failed', 'Nothing to change', { body: ['no fields given'] });
    }
    const db = c.get('services').db();
    const updated = await updateProject(db, id, changes, Object.keys(input), auditFor(c, access));
    await refreshWatches(c.env, access.workspaceId, c.get('logger'));
    const [shown] = await showProjects(c, [updated]);
    return c.json(shown!, 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}',
    tags: ['projects'],
    summary: 'Delete a project and everything in it (admin)',
    request: { params: ProjectParams },
    responses: {
      200: { description: 'Deleted', ...json(z.object({ status: z.literal('deleted') })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const access = await authorizeProject(c, id, 'admin');
    const db = c.get('services').db();
    await deleteProject(db, id, access.workspaceId, auditFor(c, access));
    await refreshWatches(c.env, access.workspaceId, c.get('logger'));
    return c.json({ status: 'deleted' as const }, 200);
  },
);
