import { and, eq, isNull } from 'drizzle-orm';
import {
  checkLeave,
  checkRemoval,
  checkRoleChange,
  type MembershipRefusal,
} from '../../core/membership-rules';
import type { Role } from '../../core/roles';
import type { Database, Transaction } from '../../db/client';
import { apiTokens, memberships, users } from '../../db/schema';
import { ApiError } from '../../platform/errors';
import type { Audit } from '../audit';

/** The rules' refusal as the answer; the change's transaction rolls back with it. */
export function refuse(refusal: MembershipRefusal) {
  if (refusal)
    throw new ApiError(refusal.status === 409 ? 'conflict' : 'forbidden', refusal.message);
}

function memberNotFound(): ApiError {
  return new ApiError('not_found', 'Member not found');
}

/** The user's role in the workspace, or undefined for someone outside it. */
export async function membershipRole(
  db: Database,
  workspaceId: string,
  userId: string,
): Promise<Role | undefined> {
  const [membership] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
  return membership?.role;
}

/** Members with their user rows, by email. */
export function membersOf(db: Database, workspaceId: string) {
  return db
    .select({ membership: memberships, user: users })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.workspaceId, workspaceId))
    .orderBy(users.email);
}

/**
 * The workspace's memberships, locked for the rest of the transaction so two concurrent changes
 * cannot both see "another owner remains" and leave the workspace without one.
 */
async function lockMembers(tx: Transaction, workspaceId: string) {
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

function setRole(tx: Transaction, workspaceId: string, userId: string, role: Role) {
  return tx
    .update(memberships)
    .set({ role })
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
}

/** Leaving also revokes the member's API tokens for that workspace, so none outlives access. */
async function removeMember(tx: Transaction, workspaceId: string, userId: string) {
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

/** The one who acts on the membership: a member of the workspace with their role. */
export interface MemberActor {
  workspaceId: string;
  userId: string;
  role: Role;
}

const memberAudit = (action: string, userId: string, metadata?: Record<string, unknown>) => ({
  action,
  targetType: 'user',
  targetId: userId,
  ...(metadata ? { metadata } : {}),
});

export function changeRole(
  db: Database,
  actor: MemberActor,
  userId: string,
  role: Role,
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const members = await lockMembers(tx, actor.workspaceId);
    const current = members.roleOf(userId);
    if (!current) throw memberNotFound();
    refuse(checkRoleChange(actor.role, current, role, members.owners));
    await setRole(tx, actor.workspaceId, userId, role);
    await audit(tx, memberAudit('member.role_changed', userId, { from: current, to: role }));
  });
}

export function removeFromWorkspace(
  db: Database,
  actor: MemberActor,
  userId: string,
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const members = await lockMembers(tx, actor.workspaceId);
    const current = members.roleOf(userId);
    if (!current) throw memberNotFound();
    refuse(checkRemoval(actor.role, current, members.owners));
    await removeMember(tx, actor.workspaceId, userId);
    await audit(tx, memberAudit('member.removed', userId, { role: current }));
  });
}

export function leaveWorkspace(db: Database, actor: MemberActor, audit: Audit) {
  return db.transaction(async (tx) => {
    const members = await lockMembers(tx, actor.workspaceId);
    refuse(checkLeave(members.roleOf(actor.userId) as Role, members.owners));
    await removeMember(tx, actor.workspaceId, actor.userId);
    await audit(tx, memberAudit('member.left', actor.userId));
  });
}

/** The owner hands ownership to another member and stays on as admin. */
export function transferOwnership(db: Database, actor: MemberActor, userId: string, audit: Audit) {
  return db.transaction(async (tx) => {
    const members = await lockMembers(tx, actor.workspaceId);
    const current = members.roleOf(userId);
    if (!current) throw memberNotFound();
    await setRole(tx, actor.workspaceId, userId, 'owner');
    await setRole(tx, actor.workspaceId, actor.userId, 'admin');
    await audit(tx, memberAudit('workspace.ownership_transferred', userId, { from: current }));
  });
}
