import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { effectiveRole, type Role, roleAtLeast } from '../../core/roles';
import { memberships, projects } from '../../db/schema';
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
  const [membership] = await c
    .get('services')
    .db()
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, principal.userId)));
  if (!membership) throw notFound('Workspace');
  const role = effectiveRole(
    membership.role,
    principal.kind === 'token' ? principal.scope : undefined,
  );
  if (!roleAtLeast(role, minimum)) {
    throw new ApiError('forbidden', `This needs the ${minimum} role or higher; you are ${role}`);
  }
  return { workspaceId, userId: principal.userId, role };
}

export async function authorizeProject(c: Context<HonoEnv>, projectId: string, minimum: Role) {
  const [project] = await c
    .get('services')
    .db()
    .select({ workspaceId: projects.workspaceId })
    .from(projects)
    .where(eq(projects.id, projectId));
  if (!project) throw notFound('Project');
  try {
    return { ...(await authorizeWorkspace(c, project.workspaceId, minimum)), projectId };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'not_found') throw notFound('Project');
    throw err;
  }
}
