export const ROLES = ['viewer', 'developer', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export const TOKEN_SCOPES = ['read', 'write', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

const SCOPE_CEILING: Record<TokenScope, Role> = {
  read: 'viewer',
  write: 'developer',
  admin: 'admin',
};

/** The highest role a token of this scope acts with: minting one needs at least that role. */
export function scopeCeiling(scope: TokenScope): Role {
  return SCOPE_CEILING[scope];
}

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

/** A token acts with its member's role, capped by the token's scope (a token never acts as owner). */
export function effectiveRole(memberRole: Role, tokenScope?: TokenScope): Role {
  if (!tokenScope) return memberRole;
  const ceiling = SCOPE_CEILING[tokenScope];
  return roleAtLeast(memberRole, ceiling) ? ceiling : memberRole;
}
