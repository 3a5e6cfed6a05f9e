import { type Role, roleAtLeast } from './roles';

/** Why a membership change is refused, or null when it is allowed. */
export type MembershipRefusal = { status: 403 | 409; message: string } | null;

const forbidden = (message: string) => ({ status: 403 as const, message });
const conflict = (message: string) => ({ status: 409 as const, message });

const LAST_OWNER = 'A workspace needs an owner: transfer ownership or promote another owner first';

/**
 * Who may give whom which role. Admins manage developers, viewers and other admins; only owners
 * touch ownership. `owners` is how many owners the workspace has now, so the last one is kept.
 */
export function checkRoleChange(
  actor: Role,
  current: Role,
  next: Role,
  owners: number,
): MembershipRefusal {
  if (!roleAtLeast(actor, 'admin')) return forbidden('Changing roles needs the admin role');
  if ((current === 'owner' || next === 'owner') && actor !== 'owner') {
    return forbidden('Only an owner can grant or take away ownership');
  }
  if (current === 'owner' && next !== 'owner' && owners <= 1) return conflict(LAST_OWNER);
  return null;
}

/** Removing someone else (self-removal is `checkLeave`). */
export function checkRemoval(actor: Role, target: Role, owners: number): MembershipRefusal {
  if (!roleAtLeast(actor, 'admin')) return forbidden('Removing members needs the admin role');
  if (target === 'owner' && actor !== 'owner')
    return forbidden('Only an owner can remove an owner');
  if (target === 'owner' && owners <= 1) return conflict(LAST_OWNER);
  return null;
}

export function checkLeave(role: Role, owners: number): MembershipRefusal {
  return role === 'owner' && owners <= 1 ? conflict(LAST_OWNER) : null;
}

/** Inviting someone with a role: never above your own, and ownership only by transfer. */
export function checkInvite(actor: Role, role: Role): MembershipRefusal {
  if (!roleAtLeast(actor, 'admin')) return forbidden('Inviting members needs the admin role');
  if (role === 'owner') return forbidden('Ownership is given by transfer, not by invitation');
  return null;
}
