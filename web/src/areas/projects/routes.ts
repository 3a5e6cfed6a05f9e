import { placeholder } from '../../routes/placeholder';
import { projectRoute } from '../../routes/project';
import { workspaceRoute } from '../../routes/workspace';

export const workspaceRoutes = [
  placeholder(workspaceRoute, '/projects', 'Projects'),
  placeholder(workspaceRoute, '/projects/new', 'New project'),
] as const;
export const projectRoutes = [
  placeholder(projectRoute, '/', 'Overview'),
  placeholder(projectRoute, '/builds', 'Builds'),
] as const;
