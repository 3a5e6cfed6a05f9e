import type { Context } from 'hono';
import { effectiveRole, type Role, roleAtLeast } from '../../core/roles';
import type { Database } from '../../db/client';
import { membershipRole } from '../../domain/members/members';
import { projectWorkspace } from '../../domain/projects/projects';
import { ApiError } from '../../platform/errors';
import type { HonoEnv } from '../context';
import { requirePrincipal } from './principal';

export interface WorkspaceAccess {
  workspaceId: string;
  userId: string;
  /** The member's role, capped by the token's scope when a token is calling. */
  role: Role;
}

function notFound(what: string): ApiError {
  return new ApiError('not_found', `${what} not found`);
}

/**
 * The one gate every workspace- or project-scoped route calls. Someone outside the workspace
 * gets 404, never 403, so the existence of other workspaces' resources does not leak.
 */
export async function authorizeWorkspace(
  c: Context<HonoEnv>,
  workspaceId: string,
  minimum: Role,
): Promise<WorkspaceAccess> {
  const principal = requirePrincipal(c);
  if (principal.kind === 'token' && principal.workspaceId !== workspaceId) {
    throw notFound('Workspace');
  }
  const member = await membershipRole(c.get('services').db(), workspaceId, principal.userId);
  if (!member) throw notFound('Workspace');
  const role = effectiveRole(member, principal.kind === 'token' ? principal.scope : undefined);
  if (!roleAtLeast(role, minimum)) {
    throw new ApiError('forbidden', `This needs the ${minimum} role or higher; you are ${role}`);
  }
  return { workspaceId, userId: principal.userId, role };
}

/** A row that belongs to a workspace, directly or through its project. */
type Scoped = { workspaceId: string } | { projectId: string };

/**
 * Load, authorize, 404: the row `load` finds, if the caller holds `minimum` in the workspace it
 * belongs to. A row that does not exist and one in a workspace the caller is not in get the same
 * "<what> not found", so other workspaces' rows do not show.
 */
export async function loadResource<T extends Scoped>(
  c: Context<HonoEnv>,
  what: string,
  load: (db: Database) => Promise<T | undefined>,
  minimum: Role,
): Promise<{ row: T; access: WorkspaceAccess }> {
  const row = await load(c.get('services').db());
  if (!row) throw notFound(what);
  try {
    const access =
      'workspaceId' in row
        ? await authorizeWorkspace(c, row.workspaceId, minimum)
        : await authorizeProject(c, row.projectId, minimum);
    return { row, access };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'not_found') throw notFound(what);
    throw err;
  }
}

export async function authorizeProject(c: Context<HonoEnv>, projectId: string, minimum: Role) {
  const { access } = await loadResource(
    c,
    'Project',
    (db) => projectWorkspace(db, projectId),
    minimum,
  );
  return { ...access, projectId };
}
