import { createRoute, lazyRouteComponent } from '@tanstack/react-router';
import { projectRoute } from '../../routes/project';
import { workspaceRoute } from '../../routes/workspace';
import { validateDoraSearch } from './search';

// The page (and its charts) load on first visit; only these definitions are in the shell.
export const projectDoraRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: '/dora',
  validateSearch: validateDoraSearch,
  component: lazyRouteComponent(() => import('./dora-page'), 'ProjectDora'),
});

export const workspaceDoraRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: '/dora',
  validateSearch: validateDoraSearch,
  component: lazyRouteComponent(() => import('./dora-page'), 'WorkspaceDora'),
});

export const projectRoutes = [projectDoraRoute] as const;
export const workspaceRoutes = [workspaceDoraRoute] as const;
