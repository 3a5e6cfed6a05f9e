import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { memberships, workspaces } from '../../db/schema';
import { ApiError } from '../../platform/errors';
import { recordAudit } from '../audit';
import { authorizeWorkspace } from '../auth/authorize';
import { requireSession } from '../auth/principal';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';

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

function toWorkspace(
  row: typeof workspaces.$inferSelect,
  role: z.infer<typeof WorkspaceSchema>['role'],
) {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    plan: row.plan,
    role,
    created_at: row.createdAt.toISOString(),
  };
}

export const workspaceRoutes = newRouter();

workspaceRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/workspaces',
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
    const created = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [workspace] = await tx
          .insert(workspaces)
          .values(input)
          .onConflictDoNothing()
          .returning();
        if (!workspace) return undefined;
        await tx
          .insert(memberships)
          .values({ workspaceId: workspace.id, userId: principal.userId, role: 'owner' });
        await recordAudit(tx, c, {
          action: 'workspace.created',
          workspaceId: workspace.id,
          actorRole: 'owner',
          targetType: 'workspace',
          targetId: workspace.id,
        });
        return workspace;
      });
    if (!created) throw new ApiError('conflict', `The slug "${input.slug}" is taken`);
    return c.json(toWorkspace(created, 'owner'), 201);
  },
);

workspaceRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/workspaces',
    tags: ['workspaces'],
    summary: 'Workspaces you belong to',
    responses: {
      200: { description: 'Yours', ...json(z.object({ workspaces: z.array(WorkspaceSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    const rows = await c
      .get('services')
      .db()
      .select({ workspace: workspaces, role: memberships.role })
      .from(memberships)
      .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
      .where(eq(memberships.userId, principal.userId))
      .orderBy(workspaces.name);
    return c.json({ workspaces: rows.map((row) => toWorkspace(row.workspace, row.role)) }, 200);
  },
);

workspaceRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/workspaces/{id}',
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
    const [row] = await c
      .get('services')
      .db()
      .select()
      .from(workspaces)
      .where(eq(workspaces.id, id));
    if (!row) throw new ApiError('not_found', 'Workspace not found');
    return c.json(toWorkspace(row, access.role), 200);
  },
);

workspaceRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/api/workspaces/{id}',
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
    const updated = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [row] = await tx
          .update(workspaces)
          .set({ name })
          .where(eq(workspaces.id, id))
          .returning();
        await recordAudit(tx, c, {
          action: 'workspace.updated',
          workspaceId: id,
          actorRole: access.role,
          targetType: 'workspace',
          targetId: id,
          metadata: { fields: ['name'] },
        });
        return row!;
      });
    return c.json(toWorkspace(updated, access.role), 200);
  },
);
