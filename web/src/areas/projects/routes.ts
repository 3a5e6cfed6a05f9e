import { buildsListRoute } from './builds-list';
import { newProjectRoute } from './new-project';
import { overviewRoute } from './overview';
import { projectsListRoute } from './projects-list';

export const workspaceRoutes = [projectsListRoute, newProjectRoute] as const;
export const projectRoutes = [overviewRoute, buildsListRoute] as const;
