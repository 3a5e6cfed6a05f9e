import type { Context } from 'hono';
import { effectiveRole, type Role, roleAtLeast } from '../../core/roles';
import type { Database } from '../../db/client';
import type { Project } from '../../db/schema';
import { membershipRole } from '../../domain/members/members';
import { projectForMember } from '../../domain/projects/projects';
import { ApiError } from '../../platform/errors';
import type { HonoEnv, Principal } from '../context';
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
 * The access a membership role grants in a workspace (none: 404, never 403, so the existence of
 * other workspaces' resources does not leak), capped by the token's scope when a token calls.
 */
function grant(
  principal: Principal,
  workspaceId: string,
  member: Role | null | undefined,
  minimum: Role,
): WorkspaceAccess {
  if (principal.kind === 'token' && principal.workspaceId !== workspaceId) {
    throw notFound('Workspace');
  }
  if (!member) throw notFound('Workspace');
  const role = effectiveRole(member, principal.kind === 'token' ? principal.scope : undefined);
  if (!roleAtLeast(role, minimum)) {
    throw new ApiError('forbidden', `This needs the ${minimum} role or higher; you are ${role}`);
  }
  return { workspaceId, userId: principal.userId, role };
}

/** The one gate every workspace- or project-scoped route calls, directly or through the two below. */
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
  return grant(principal, workspaceId, member, minimum);
}

/** What `authorize` finds missing is reported as `what` missing: the row the caller asked for. */
async function notFoundAs<T>(what: string, authorize: () => T | Promise<T>): Promise<T> {
  try {
    return await authorize();
  } catch (err) {
    if (err instanceof ApiError && err.code === 'not_found') throw notFound(what);
    throw err;
  }
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
  const access = await notFoundAs(what, () =>
    'workspaceId' in row
      ? authorizeWorkspace(c, row.workspaceId, minimum)
      : authorizeProject(c, row.projectId, minimum),
  );
  return { row, access };
}

/** A query that finds a project with the role a user holds in its workspace (null: none). */
type ProjectForMember<T> = (
  db: Database,
  projectId: string,
  userId: string,
) => Promise<(T & { project: Project; role: Role | null }) | undefined>;

/**
 * A project and the caller's access to it, read with the caller's membership in one query; a
 * project that does not exist and one in another workspace are both "Project not found". `find`
 * may read more in the same query (a read of the project, its overview).
 */
export async function loadProjectWith<T>(
  c: Context<HonoEnv>,
  projectId: string,
  minimum: Role,
  find: ProjectForMember<T>,
) {
  const principal = requirePrincipal(c);
  const found = await find(c.get('services').db(), projectId, principal.userId);
  if (!found) throw notFound('Project');
  const access = await notFoundAs('Project', () =>
    grant(principal, found.project.workspaceId, found.role, minimum),
  );
  return { found, access: { ...access, projectId } };
}

/** `loadProjectWith` the project alone: what most project-scoped routes need. */
export async function loadProject(c: Context<HonoEnv>, projectId: string, minimum: Role) {
  const { found, access } = await loadProjectWith(c, projectId, minimum, projectForMember);
  return { row: found.project, access };
}

export async function authorizeProject(c: Context<HonoEnv>, projectId: string, minimum: Role) {
  return (await loadProject(c, projectId, minimum)).access;
}
