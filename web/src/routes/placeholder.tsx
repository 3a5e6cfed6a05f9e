import { type AnyRoute, createRoute } from '@tanstack/react-router';
import { PageHeader } from '../components/ui';

// TEMPORARY while the dashboard is being built: each area replaces its placeholders with screens.
export function placeholder<P extends AnyRoute, Path extends string>(
  parent: P,
  path: Path,
  title: string,
) {
  return createRoute({
    getParentRoute: () => parent,
    path,
    component: () => <PageHeader title={title}>Not built yet.</PageHeader>,
  });
}
