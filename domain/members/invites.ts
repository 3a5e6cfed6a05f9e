import { and, eq, gt, isNull } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import type { Role } from '../../core/roles';
import type { Database } from '../../db/client';
import { invites, memberships, users, workspaces } from '../../db/schema';
import type { Audit } from '../audit';

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export type InviteRow = typeof invites.$inferSelect;

/**
 * An invitation under the hash of `token`, with the workspace's name for the mail; undefined when
 * the address already belongs to a member.
 */
export function createInvite(
  db: Database,
  invite: { workspaceId: string; email: string; role: Role; invitedBy: string; token: string },
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ id: memberships.id })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.workspaceId, invite.workspaceId), eq(users.email, invite.email)));
    if (existing) return undefined;
    const [row] = await tx
      .insert(invites)
      .values({
        workspaceId: invite.workspaceId,
        email: invite.email,
        role: invite.role,
        tokenHash: await sha256Hex(invite.token),
        expiresAt: new Date(Date.now() + INVITE_TTL_MS),
        invitedBy: invite.invitedBy,
      })
      .returning();
    const [workspace] = await tx
      .select()
      .from(workspaces)
      .where(eq(workspaces.id, invite.workspaceId));
    await audit(tx, {
      action: 'member.invited',
      targetType: 'invite',
      targetId: row!.id,
      metadata: { email: invite.email, role: invite.role },
    });
    return { invite: row!, workspaceName: workspace!.name };
  });
}

/** Invitations neither accepted nor expired, oldest first. */
export function pendingInvites(db: Database, workspaceId: string) {
  return db
    .select()
    .from(invites)
    .where(
      and(
        eq(invites.workspaceId, workspaceId),
        isNull(invites.acceptedAt),
        gt(invites.expiresAt, new Date()),
      ),
    )
    .orderBy(invites.createdAt);
}

/** Whether a pending invitation of the workspace was withdrawn. */
export function withdrawInvite(db: Database, workspaceId: string, inviteId: string, audit: Audit) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .delete(invites)
      .where(
        and(
          eq(invites.id, inviteId),
          eq(invites.workspaceId, workspaceId),
          isNull(invites.acceptedAt),
        ),
      )
      .returning({ id: invites.id });
    if (!row) return false;
    await audit(tx, {
      action: 'member.invite_withdrawn',
      targetType: 'invite',
      targetId: inviteId,
    });
    return true;
  });
}

/**
 * Joins the user to the workspace of the invitation under `token` addressed to them: the new
 * membership, `already_member`, or undefined for a token that is unknown, used, expired or for
 * another address.
 */
export function acceptInvite(db: Database, userId: string, token: string, audit: Audit) {
  return db.transaction(async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId));
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
      .values({ workspaceId: invite.workspaceId, userId, role: invite.role })
      .onConflictDoNothing()
      .returning();
    if (!joined) return 'already_member' as const;
    await audit(tx, {
      action: 'member.joined',
      workspaceId: invite.workspaceId,
      actorRole: invite.role,
      targetType: 'user',
      targetId: userId,
      metadata: { invite_id: invite.id },
    });
    return joined;
  });
}
