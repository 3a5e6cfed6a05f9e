import { useQuery } from '@tanstack/react-query';
import type { Schemas } from '../api/client';
import { workspacesQuery } from './session';

export type Role = Schemas['Workspace']['role'];
const RANK: Record<Role, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

export function atLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[needed];
}

/**
 * Whether the signed-in user holds `needed` in a workspace. Screens hide what the API would
 * refuse (a viewer sees no mutating buttons); the API still checks every call.
 */
export function useCan(workspaceId: string | undefined, needed: Role): boolean {
  const { data: workspaces } = useQuery(workspacesQuery);
  return atLeast(workspaces?.find((workspace) => workspace.id === workspaceId)?.role, needed);
}
