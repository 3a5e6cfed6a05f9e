import { createRouter } from '@tanstack/react-router';
import * as admin from './areas/admin/routes';
import * as auth from './areas/auth/routes';
import * as builds from './areas/builds/routes';
import * as deployments from './areas/deployments/routes';
import * as dora from './areas/dora/routes';
import * as notifications from './areas/notifications/routes';
import * as projects from './areas/projects/routes';
import { queryClient } from './lib/query';
import { appLayout, publicLayout, rootRoute } from './routes/base';
import { homeRoute } from './routes/home';
import { projectRoute } from './routes/project';
import { workspaceRoute } from './routes/workspace';

// Each area of the dashboard lists its own routes under the layout they belong to.
const routeTree = rootRoute.addChildren([
  publicLayout.addChildren([...auth.publicRoutes]),
  appLayout.addChildren([
    homeRoute,
    ...auth.accountRoutes,
    ...admin.appRoutes,
    ...builds.appRoutes,
    ...deployments.appRoutes,
    workspaceRoute.addChildren([
      ...projects.workspaceRoutes,
      ...admin.workspaceRoutes,
      ...dora.workspaceRoutes,
    ]),
    projectRoute.addChildren([
      ...projects.projectRoutes,
      ...deployments.projectRoutes,
      ...dora.projectRoutes,
      ...notifications.projectRoutes,
    ]),
  ]),
]);

export const router = createRouter({
  routeTree,
  context: { queryClient },
  defaultPreload: 'intent',
  scrollRestoration: true,
});

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
