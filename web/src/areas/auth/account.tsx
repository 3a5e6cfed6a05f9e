import { createRoute, lazyRouteComponent } from '@tanstack/react-router';
import { appLayout } from '../../routes/base';

/** `/account`: loaded on first visit, so the QR code library stays out of the shell's bundle. */
export const accountRoute = createRoute({
  getParentRoute: () => appLayout,
  path: '/account',
  component: lazyRouteComponent(() => import('./account-page'), 'AccountPage'),
});
