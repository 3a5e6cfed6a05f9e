import { createRoute, z } from '@hono/zod-openapi';
import { effectiveRole } from '../../../core/roles';
import {
  createWorkspace,
  findWorkspace,
  renameWorkspace,
  type WorkspaceRow,
  workspacesOf,
} from '../../../domain/workspaces/workspaces';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeWorkspace } from '../../auth/authorize';
import { requirePrincipal, requireSession } from '../../auth/principal';
import { openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';

const SlugSchema = z
  .string()
  .min(3)
  .max(40)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'lower-case letters, digits and inner hyphens')
  .openapi({ example: 'acme' });

const WorkspaceSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    plan: z.enum(['free', 'pro', 'team']),
    role: z.enum(['owner', 'admin', 'developer', 'viewer']),
    created_at: z.iso.datetime(),
  })
  .openapi('Workspace');

const IdParams = z.object({ id: z.uuid() });

function toWorkspace(row: WorkspaceRow, role: z.infer<typeof WorkspaceSchema>['role']) {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    plan: row.plan,
    role,
    created_at: row.createdAt.toISOString(),
  };
}

/** `/api/workspaces` itself: create, list, read, rename. */
export const workspaceRoutes = newRouter();

workspaceRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/',
    tags: ['workspaces'],
    summary: 'Create a workspace; you become its owner',
    request: jsonBody(
      z.object({ name: z.string().min(1).max(100), slug: SlugSchema }).openapi('CreateWorkspace'),
    ),
    responses: {
      201: { description: 'Created', ...json(WorkspaceSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    const input = c.req.valid('json');
    const db = c.get('services').db();
    const created = await createWorkspace(db, input, principal.userId, auditFor(c));
    if (!created) throw new ApiError('conflict', `The slug "${input.slug}" is taken`);
    return c.json(toWorkspace(created, 'owner'), 201);
  },
);

workspaceRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['workspaces'],
    summary: 'Workspaces you belong to',
    description:
      'An API token is for one workspace: it sees only that one, with the role its scope allows.',
    responses: {
      200: { description: 'Yours', ...json(z.object({ workspaces: z.array(WorkspaceSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requirePrincipal(c);
    const rows = await workspacesOf(c.get('services').db(), principal.userId);
    // `sparki link` with the token `sparki login` stored (or SPARKI_TOKEN) lists them too.
    const token = principal.kind === 'token' ? principal : undefined;
    const visible = token ? rows.filter((row) => row.workspace.id === token.workspaceId) : rows;
    return c.json(
      {
        workspaces: visible.map((row) =>
          toWorkspace(row.workspace, effectiveRole(row.role, token?.scope)),
        ),
      },
      200,
    );
  },
);

workspaceRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    tags: ['workspaces'],
    summary: 'One workspace (404 unless you are a member)',
    request: { params: IdParams },
    responses: {
      200: { description: 'The workspace', ...json(WorkspaceSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const access = await authorizeWorkspace(c, id, 'viewer');
    const row = await findWorkspace(c.get('services').db(), id);
    if (!row) throw new ApiError('not_found', 'Workspace not found');
    return c.json(toWorkspace(row, access.role), 200);
  },
);

workspaceRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/{id}',
    tags: ['workspaces'],
    summary: 'Rename a workspace (admin)',
    request: {
      params: IdParams,
      ...jsonBody(z.object({ name: z.string().min(1).max(100) }).openapi('UpdateWorkspace')),
    },
    responses: {
      200: { description: 'Updated', ...json(WorkspaceSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const access = await authorizeWorkspace(c, id, 'admin');
    const { name } = c.req.valid('json');
    const db = c.get('services').db();
    const updated = await renameWorkspace(db, id, name, auditFor(c, access));
    return c.json(toWorkspace(updated, access.role), 200);
  },
);
