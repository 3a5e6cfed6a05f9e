import { authenticated } from '../../router';
import { auditLogRoutes } from './audit-log';
import { workspaceDoraRoutes } from './dora';
import { githubAppRoutes } from './github-app';
import { inviteRoutes } from './invites';
import { memberRoutes } from './members';
import { workspaceProjectRoutes } from './projects';
import { workspaceRunnerRoutes } from './runners';
import { usageRoutes } from './usage';
import { workspaceRoutes } from './workspaces';

/** `/api/workspaces`: a workspace and what hangs off it (members, projects, runners, audit, usage). */
export const workspacesApp = authenticated(
  workspaceRoutes,
  memberRoutes,
  inviteRoutes,
  workspaceProjectRoutes,
  workspaceRunnerRoutes,
  auditLogRoutes,
  usageRoutes,
  githubAppRoutes,
  workspaceDoraRoutes,
);
