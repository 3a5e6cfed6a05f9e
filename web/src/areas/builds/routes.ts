import { createRoute, lazyRouteComponent } from '@tanstack/react-router';
import { appLayout } from '../../routes/base';

/** The build page: its log viewer (anser, @tanstack/react-virtual, zod) loads only here. */
const buildRoute = createRoute({
  getParentRoute: () => appLayout,
  path: '/builds/$buildId',
  component: lazyRouteComponent(() => import('./build-page'), 'BuildPage'),
});

export const appRoutes = [buildRoute] as const;
