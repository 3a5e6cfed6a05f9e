import type { QueryClient } from '@tanstack/react-query';
import {
  createRootRouteWithContext,
  createRoute,
  Link,
  Outlet,
  redirect,
} from '@tanstack/react-router';
import { ApiError } from '../api/client';
import { ErrorNotice } from '../components/error-notice';
import { Shell } from '../components/shell';
import { meQuery } from '../lib/session';

export interface RouterContext {
  queryClient: QueryClient;
}

export function NotFound() {
  return (
    <main className="mx-auto max-w-xl p-8 text-center">
      <h1 className="text-2xl font-semibold">Not found</h1>
      <p className="mt-2 text-muted">This page does not exist, or you have no access to it.</p>
      <Link to="/" className="mt-4 inline-block text-accent underline">
        Back to the dashboard
      </Link>
    </main>
  );
}

/** A route's failure: a missing or foreign resource reads as "not found", like the API says. */
export function RouteError({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.status === 404) return <NotFound />;
  return (
    <main className="mx-auto max-w-xl p-8">
      <ErrorNotice error={error} />
    </main>
  );
}

export const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: Outlet,
  notFoundComponent: NotFound,
  errorComponent: RouteError,
});

/** Pages for signed-out people: sign in and up, and the pages mailed links open. */
export const publicLayout = createRoute({
  getParentRoute: () => rootRoute,
  id: 'public',
  component: () => (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center p-6">
      <p className="mb-6 text-center text-xl font-bold text-accent">Sparki</p>
      <Outlet />
    </main>
  ),
});

/** Everything behind sign-in; a missing or ended session goes to the sign-in page and back. */
export const appLayout = createRoute({
  getParentRoute: () => rootRoute,
  id: 'app',
  beforeLoad: async ({ context, location }) => {
    try {
      await context.queryClient.ensureQueryData(meQuery);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        throw redirect({ to: '/sign-in', search: { return_to: location.href } });
      }
      throw error;
    }
  },
  component: Shell,
});
