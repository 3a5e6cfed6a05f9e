import { createRoute, z } from '@hono/zod-openapi';
import { ROLES } from '../../../core/roles';
import {
  changeRole,
  leaveWorkspace,
  membersOf,
  removeFromWorkspace,
  transferOwnership,
} from '../../../domain/members/members';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeWorkspace } from '../../auth/authorize';
import { requireSession } from '../../auth/principal';
import { openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';

export const RoleSchema = z.enum(ROLES);
export const WorkspaceParams = z.object({ id: z.uuid() });
const MemberParams = z.object({ id: z.uuid(), userId: z.uuid() });

export const StatusSchema = z.object({ status: z.string() }).openapi('Status');

const MemberSchema = z
  .object({
    user_id: z.uuid(),
    email: z.string(),
    display_name: z.string().nullable(),
    role: RoleSchema,
    joined_at: z.iso.datetime(),
  })
  .openapi('Member');

/** `/api/workspaces/{id}/members`, leaving and handing over ownership. */
export const memberRoutes = newRouter();

memberRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/members',
    tags: ['members'],
    summary: 'Members of a workspace and their roles',
    request: { params: WorkspaceParams },
    responses: {
      200: { description: 'Members', ...json(z.object({ members: z.array(MemberSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeWorkspace(c, id, 'viewer');
    const rows = await membersOf(c.get('services').db(), id);
    const members = rows.map(({ membership, user }) => ({
      user_id: user.id,
      email: user.email,
      display_name: user.displayName,
      role: membership.role,
      joined_at: membership.createdAt.toISOString(),
    }));
    return c.json({ members }, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/{id}/members/{userId}',
    tags: ['members'],
    summary: "Change a member's role (admin; ownership only by an owner)",
    request: {
      params: MemberParams,
      ...jsonBody(z.object({ role: RoleSchema }).openapi('ChangeRole')),
    },
    responses: { 200: { description: 'Changed', ...json(StatusSchema) }, ...openApiErrorResponses },
  }),
  async (c) => {
    const { id, userId } = c.req.valid('param');
    const { role } = c.req.valid('json');
    const access = await authorizeWorkspace(c, id, 'admin');
    await changeRole(c.get('services').db(), access, userId, role, auditFor(c, access));
    return c.json({ status: 'changed' }, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}/members/{userId}',
    tags: ['members'],
    summary: 'Remove a member (admin; an owner only by an owner)',
    request: { params: MemberParams },
    responses: { 200: { description: 'Removed', ...json(StatusSchema) }, ...openApiErrorResponses },
  }),
  async (c) => {
    const { id, userId } = c.req.valid('param');
    const access = await authorizeWorkspace(c, id, 'admin');
    if (userId === access.userId) {
      throw new ApiError('bad_request', 'To remove yourself, leave the workspace');
    }
    await removeFromWorkspace(c.get('services').db(), access, userId, auditFor(c, access));
    return c.json({ status: 'removed' }, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/leave',
    tags: ['members'],
    summary: 'Leave a workspace (the last owner cannot)',
    request: { params: WorkspaceParams },
    responses: { 200: { description: 'Left', ...json(StatusSchema) }, ...openApiErrorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    requireSession(c);
    const access = await authorizeWorkspace(c, id, 'viewer');
    await leaveWorkspace(c.get('services').db(), access, auditFor(c, access));
    return c.json({ status: 'left' }, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/transfer',
    tags: ['members'],
    summary: 'Hand ownership to another member; you stay on as admin',
    request: {
      params: WorkspaceParams,
      ...jsonBody(z.object({ user_id: z.uuid() }).openapi('TransferOwnership')),
    },
    responses: {
      200: { description: 'Transferred', ...json(StatusSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { user_id: target } = c.req.valid('json');
    requireSession(c);
    const access = await authorizeWorkspace(c, id, 'owner');
    if (target === access.userId) throw new ApiError('bad_request', 'You already own it');
    await transferOwnership(c.get('services').db(), access, target, auditFor(c, access));
    return c.json({ status: 'transferred' }, 200);
  },
);
