import { createRoute, z } from '@hono/zod-openapi';
import { checkInvite } from '../../../core/membership-rules';
import {
  acceptInvite,
  createInvite,
  type InviteRow,
  pendingInvites,
  withdrawInvite,
} from '../../../domain/members/invites';
import { refuse } from '../../../domain/members/members';
import { randomSecret } from '../../../platform/crypto';
import { ApiError } from '../../../platform/errors';
import { tokenLink } from '../../../platform/mail/mailer';
import { mailerFor } from '../../../platform/mail/select';
import { auditFor } from '../../audit';
import { authorizeWorkspace } from '../../auth/authorize';
import { requireSession } from '../../auth/principal';
import { openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { authenticated, newRouter } from '../../router';
import { RoleSchema, StatusSchema, WorkspaceParams } from './members';

const InviteParams = z.object({ id: z.uuid(), inviteId: z.uuid() });

const InviteSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    role: RoleSchema,
    expires_at: z.iso.datetime(),
    created_at: z.iso.datetime(),
  })
  .openapi('Invite');

const CreateInviteSchema = z
  .object({
    email: z.email().transform((email) => email.toLowerCase()),
    role: RoleSchema.default('developer'),
  })
  .openapi('CreateInvite');

function toInvite(row: InviteRow) {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    expires_at: row.expiresAt.toISOString(),
    created_at: row.createdAt.toISOString(),
  };
}

/** `/api/workspaces/{id}/invites`: inviting by mail, for the workspace's admins. */
export const inviteRoutes = newRouter();

inviteRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/invites',
    tags: ['members'],
    summary: 'Invite someone by email (admin); the link expires after seven days',
    request: { params: WorkspaceParams, ...jsonBody(CreateInviteSchema) },
    responses: { 201: { description: 'Invited', ...json(InviteSchema) }, ...openApiErrorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeWorkspace(c, id, 'admin');
    refuse(checkInvite(access.role, input.role));
    const token = randomSecret();
    const { db, config } = c.get('services');
    const result = await createInvite(
      db(),
      { workspaceId: id, email: input.email, role: input.role, invitedBy: access.userId, token },
      auditFor(c, access),
    );
    if (!result) throw new ApiError('conflict', `${input.email} is already a member`);
    await mailerFor(config, c.env.LOGS).send({
      to: input.email,
      subject: `You are invited to ${result.workspaceName} on Sparki`,
      text: `Join as ${input.role} (valid for seven days): ${tokenLink(config.PUBLIC_URL, 'invites/accept', token)}`,
    });
    return c.json(toInvite(result.invite), 201);
  },
);

inviteRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/invites',
    tags: ['members'],
    summary: 'Pending invitations (admin)',
    request: { params: WorkspaceParams },
    responses: {
      200: { description: 'Pending', ...json(z.object({ invites: z.array(InviteSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeWorkspace(c, id, 'admin');
    const rows = await pendingInvites(c.get('services').db(), id);
    return c.json({ invites: rows.map(toInvite) }, 200);
  },
);

inviteRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}/invites/{inviteId}',
    tags: ['members'],
    summary: 'Withdraw an invitation (admin)',
    request: { params: InviteParams },
    responses: {
      200: { description: 'Withdrawn', ...json(StatusSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, inviteId } = c.req.valid('param');
    const access = await authorizeWorkspace(c, id, 'admin');
    const db = c.get('services').db();
    if (!(await withdrawInvite(db, id, inviteId, auditFor(c, access)))) {
      throw new ApiError('not_found', 'Invitation not found');
    }
    return c.json({ status: 'withdrawn' }, 200);
  },
);

const acceptRoutes = newRouter();

acceptRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/accept',
    tags: ['members'],
    summary: 'Join a workspace with the token from an invitation mail',
    request: jsonBody(z.object({ token: z.string().min(1).max(200) }).openapi('AcceptInvite')),
    responses: {
      200: {
        description: 'Joined',
        ...json(z.object({ workspace_id: z.uuid(), role: RoleSchema }).openapi('AcceptedInvite')),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    const { token } = c.req.valid('json');
    const db = c.get('services').db();
    const outcome = await acceptInvite(db, principal.userId, token, auditFor(c));
    if (!outcome) {
      throw new ApiError(
        'bad_request',
        'The invitation is invalid, used, expired or addressed to another email',
      );
    }
    if (outcome === 'already_member') throw new ApiError('conflict', 'You are already a member');
    return c.json({ workspace_id: outcome.workspaceId, role: outcome.role }, 200);
  },
);

/** `/api/invites`: what the invited do with their link. */
export const invitesApp = authenticated(acceptRoutes);
