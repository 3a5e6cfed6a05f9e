import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Context } from 'hono';
import { sha256Hex } from '../../core/digest';
import {
  checkInvite,
  checkLeave,
  checkRemoval,
  checkRoleChange,
  type MembershipRefusal,
} from '../../core/membership-rules';
import { ROLES, type Role } from '../../core/roles';
import type { Transaction as Tx } from '../../db/client';
import { apiTokens, invites, memberships, users, workspaces } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import { ApiError } from '../../platform/errors';
import { tokenLink } from '../../platform/mail/mailer';
import { mailerFor } from '../../platform/mail/select';
import { recordAudit } from '../audit';
import { authorizeWorkspace, type WorkspaceAccess } from '../auth/authorize';
import { requireSession } from '../auth/principal';
import type { HonoEnv } from '../context';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const RoleSchema = z.enum(ROLES);
const WorkspaceParams = z.object({ id: z.uuid() });
const MemberParams = z.object({ id: z.uuid(), userId: z.uuid() });
const InviteParams = z.object({ id: z.uuid(), inviteId: z.uuid() });

const MemberSchema = z
  .object({
    user_id: z.uuid(),
    email: z.string(),
    display_name: z.string().nullable(),
    role: RoleSchema,
    joined_at: z.iso.datetime(),
  })
  .openapi('Member');

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

const StatusSchema = z.object({ status: z.string() }).openapi('Status');

function refuse(refusal: MembershipRefusal) {
  if (refusal)
    throw new ApiError(refusal.status === 409 ? 'conflict' : 'forbidden', refusal.message);
}

/**
 * The workspace's memberships, locked for the rest of the transaction so two concurrent changes
 * cannot both see "another owner remains" and leave the workspace without one.
 */
async function lockMembers(tx: Tx, workspaceId: string) {
  const rows = await tx
    .select({ userId: memberships.userId, role: memberships.role })
    .from(memberships)
    .where(eq(memberships.workspaceId, workspaceId))
    .for('update');
  return {
    owners: rows.filter((row) => row.role === 'owner').length,
    roleOf: (userId: string) => rows.find((row) => row.userId === userId)?.role,
  };
}

function memberNotFound(): ApiError {
  return new ApiError('not_found', 'Member not found');
}

function audit(
  tx: Tx,
  c: Context<HonoEnv>,
  access: WorkspaceAccess,
  action: string,
  userId: string,
  metadata?: Record<string, unknown>,
) {
  return recordAudit(tx, c, {
    action,
    workspaceId: access.workspaceId,
    actorRole: access.role,
    targetType: 'user',
    targetId: userId,
    ...(metadata ? { metadata } : {}),
  });
}

function toInvite(row: typeof invites.$inferSelect) {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    expires_at: row.expiresAt.toISOString(),
    created_at: row.createdAt.toISOString(),
  };
}

export const memberRoutes = newRouter();

memberRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/workspaces/{id}/members',
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
    const rows = await c
      .get('services')
      .db()
      .select({ membership: memberships, user: users })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.workspaceId, id))
      .orderBy(users.email);
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
    method: 'post',
    path: '/api/workspaces/{id}/invites',
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
    const result = await db().transaction(async (tx) => {
      const [existing] = await tx
        .select({ id: memberships.id })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.workspaceId, id), eq(users.email, input.email)));
      if (existing) return undefined;
      const [invite] = await tx
        .insert(invites)
        .values({
          workspaceId: id,
          email: input.email,
          role: input.role,
          tokenHash: await sha256Hex(token),
          expiresAt: new Date(Date.now() + INVITE_TTL_MS),
          invitedBy: access.userId,
        })
        .returning();
      const [workspace] = await tx.select().from(workspaces).where(eq(workspaces.id, id));
      await recordAudit(tx, c, {
        action: 'member.invited',
        workspaceId: id,
        actorRole: access.role,
        targetType: 'invite',
        targetId: invite!.id,
        metadata: { email: input.email, role: input.role },
      });
      return { invite: invite!, workspaceName: workspace!.name };
    });
    if (!result) throw new ApiError('conflict', `${input.email} is already a member`);
    await mailerFor(config, c.env.LOGS).send({
      to: input.email,
      subject: `You are invited to ${result.workspaceName} on Sparki`,
      text: `Join as ${input.role} (valid for seven days): ${tokenLink(config.PUBLIC_URL, 'invites/accept', token)}`,
    });
    return c.json(toInvite(result.invite), 201);
  },
);

memberRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/workspaces/{id}/invites',
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
    const rows = await c
      .get('services')
      .db()
      .select()
      .from(invites)
      .where(
        and(
          eq(invites.workspaceId, id),
          isNull(invites.acceptedAt),
          gt(invites.expiresAt, new Date()),
        ),
      )
      .orderBy(invites.createdAt);
    return c.json({ invites: rows.map(toInvite) }, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/api/workspaces/{id}/invites/{inviteId}',
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
    const deleted = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [row] = await tx
          .delete(invites)
          .where(
            and(eq(invites.id, inviteId), eq(invites.workspaceId, id), isNull(invites.acceptedAt)),
          )
          .returning({ id: invites.id });
        if (row) {
          await recordAudit(tx, c, {
            action: 'member.invite_withdrawn',
            workspaceId: id,
            actorRole: access.role,
            targetType: 'invite',
            targetId: inviteId,
          });
        }
        return row;
      });
    if (!deleted) throw new ApiError('not_found', 'Invitation not found');
    return c.json({ status: 'withdrawn' }, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/invites/accept',
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
    const outcome = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [user] = await tx.select().from(users).where(eq(users.id, principal.userId));
        // Claimed in one statement so the same link cannot be used twice concurrently.
        const [invite] = await tx
          .update(invites)
          .set({ acceptedAt: new Date() })
          .where(
            and(
              eq(invites.tokenHash, await sha256Hex(token)),
              eq(invites.email, user!.email),
              isNull(invites.acceptedAt),
              gt(invites.expiresAt, new Date()),
            ),
          )
          .returning();
        if (!invite) return undefined;
        const [joined] = await tx
          .insert(memberships)
          .values({ workspaceId: invite.workspaceId, userId: principal.userId, role: invite.role })
          .onConflictDoNothing()
          .returning();
        if (!joined) return 'already_member' as const;
        await recordAudit(tx, c, {
          action: 'member.joined',
          workspaceId: invite.workspaceId,
          actorRole: invite.role,
          targetType: 'user',
          targetId: principal.userId,
          metadata: { invite_id: invite.id },
        });
        return joined;
      });
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

memberRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/api/workspaces/{id}/members/{userId}',
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
    await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const members = await lockMembers(tx, id);
        const current = members.roleOf(userId);
        if (!current) throw memberNotFound();
        refuse(checkRoleChange(access.role, current, role, members.owners));
        await tx
          .update(memberships)
          .set({ role })
          .where(and(eq(memberships.workspaceId, id), eq(memberships.userId, userId)));
        await audit(tx, c, access, 'member.role_changed', userId, { from: current, to: role });
      });
    return c.json({ status: 'changed' }, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/api/workspaces/{id}/members/{userId}',
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
    await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const members = await lockMembers(tx, id);
        const current = members.roleOf(userId);
        if (!current) throw memberNotFound();
        refuse(checkRemoval(access.role, current, members.owners));
        await removeMember(tx, id, userId);
        await audit(tx, c, access, 'member.removed', userId, { role: current });
      });
    return c.json({ status: 'removed' }, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/workspaces/{id}/leave',
    tags: ['members'],
    summary: 'Leave a workspace (the last owner cannot)',
    request: { params: WorkspaceParams },
    responses: { 200: { description: 'Left', ...json(StatusSchema) }, ...openApiErrorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    requireSession(c);
    const access = await authorizeWorkspace(c, id, 'viewer');
    await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const members = await lockMembers(tx, id);
        refuse(checkLeave(members.roleOf(access.userId) as Role, members.owners));
        await removeMember(tx, id, access.userId);
        await audit(tx, c, access, 'member.left', access.userId);
      });
    return c.json({ status: 'left' }, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/workspaces/{id}/transfer',
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
    await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const members = await lockMembers(tx, id);
        const current = members.roleOf(target);
        if (!current) throw memberNotFound();
        const set = (userId: string, role: Role) =>
          tx
            .update(memberships)
            .set({ role })
            .where(and(eq(memberships.workspaceId, id), eq(memberships.userId, userId)));
        await set(target, 'owner');
        await set(access.userId, 'admin');
        await audit(tx, c, access, 'workspace.ownership_transferred', target, { from: current });
      });
    return c.json({ status: 'transferred' }, 200);
  },
);

/** Leaving also revokes the member's API tokens for that workspace, so none outlives access. */
async function removeMember(tx: Tx, workspaceId: string, userId: string) {
  await tx
    .delete(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
  await tx
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(
      and(
        eq(apiTokens.workspaceId, workspaceId),
        eq(apiTokens.userId, userId),
        isNull(apiTokens.revokedAt),
      ),
    );
}
