import { createRoute, lazyRouteComponent } from '@tanstack/react-router';
import { workspaceRoute } from '../../routes/workspace';
import { validateAuditSearch } from './audit-search';
import { newWorkspaceRoute } from './new-workspace';

// The screens load on first visit; only these route definitions are in the shell's bundle.
export const runnersRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: '/runners',
  component: lazyRouteComponent(() => import('./runners'), 'Runners'),
});

export const membersRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: '/members',
  component: lazyRouteComponent(() => import('./members'), 'Members'),
});

export const auditRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: '/audit',
  validateSearch: validateAuditSearch,
  component: lazyRouteComponent(() => import('./audit-log'), 'AuditLog'),
});

export const settingsRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: '/settings',
  component: lazyRouteComponent(() => import('./settings'), 'Settings'),
});

export const appRoutes = [newWorkspaceRoute] as const;
export const workspaceRoutes = [runnersRoute, membersRoute, auditRoute, settingsRoute] as const;
