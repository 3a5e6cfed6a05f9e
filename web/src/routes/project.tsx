import { queryOptions } from '@tanstack/react-query';
import { createRoute, Link, Outlet } from '@tanstack/react-router';
import { api, unwrap } from '../api/client';
import { rememberWorkspace } from '../lib/session';
import { appLayout } from './base';

export const projectQuery = (projectId: string) =>
  queryOptions({
    queryKey: ['project', projectId],
    queryFn: () => unwrap(api.GET('/api/projects/{id}', { params: { path: { id: projectId } } })),
  });

const TABS = [
  { to: '/projects/$projectId', label: 'Overview', exact: true },
  { to: '/projects/$projectId/builds', label: 'Builds', exact: false },
  { to: '/projects/$projectId/deployments', label: 'Deployments', exact: false },
  { to: '/projects/$projectId/environments', label: 'Environments', exact: false },
  { to: '/projects/$projectId/domains', label: 'Domains', exact: false },
  { to: '/projects/$projectId/dora', label: 'DORA', exact: false },
  { to: '/projects/$projectId/notifications', label: 'Notifications', exact: false },
] as const;

/** `/projects/:projectId/…`: one project, its tabs; a foreign or missing project is "not found". */
export const projectRoute = createRoute({
  getParentRoute: () => appLayout,
  path: '/projects/$projectId',
  loader: async ({ params, context }) => {
    const project = await context.queryClient.ensureQueryData(projectQuery(params.projectId));
    rememberWorkspace(project.workspace_id);
    return project;
  },
  component: ProjectLayout,
});

function ProjectLayout() {
  const project = projectRoute.useLoaderData();
  return (
    <div>
      <p className="text-sm text-muted">
        <Link to="/w/$workspaceId/projects" params={{ workspaceId: project.workspace_id }}>
          Projects
        </Link>{' '}
        / <span className="text-ink">{project.name}</span>
      </p>
      <nav
        aria-label="Project"
        className="my-4 flex gap-1 overflow-x-auto border-b border-line text-sm"
      >
        {TABS.map((tab) => (
          <Link
            key={tab.to}
            to={tab.to}
            params={{ projectId: project.id }}
            activeOptions={{ exact: tab.exact }}
            className="-mb-px border-b-2 border-transparent px-3 py-2"
            activeProps={{ className: 'border-accent! font-semibold', 'aria-current': 'page' }}
          >
            {tab.label}
          </Link>
        ))}
      </nav>
      <Outlet />
    </div>
  );
}
