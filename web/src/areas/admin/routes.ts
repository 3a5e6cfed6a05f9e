import { placeholder } from '../../routes/placeholder';
import { workspaceRoute } from '../../routes/workspace';
import { newWorkspaceRoute } from './new-workspace';

export const appRoutes = [newWorkspaceRoute] as const;
export const workspaceRoutes = [
  placeholder(workspaceRoute, '/runners', 'Runners'),
  placeholder(workspaceRoute, '/members', 'Members'),
  placeholder(workspaceRoute, '/audit', 'Audit log'),
  placeholder(workspaceRoute, '/settings', 'Plan & usage'),
] as const;
