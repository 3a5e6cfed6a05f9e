import { createRoute, Outlet } from '@tanstack/react-router';
import { api, unwrap } from '../api/client';
import { rememberWorkspace } from '../lib/session';
import { appLayout } from './base';

/** `/w/:workspaceId/…`: the workspace's own sections (projects, runners, members, audit, plan). */
export const workspaceRoute = createRoute({
  getParentRoute: () => appLayout,
  path: '/w/$workspaceId',
  loader: async ({ params, context }) => {
    const workspace = await context.queryClient.ensureQueryData({
      queryKey: ['workspace', params.workspaceId],
      queryFn: () =>
        unwrap(api.GET('/api/workspaces/{id}', { params: { path: { id: params.workspaceId } } })),
    });
    rememberWorkspace(workspace.id);
    return workspace;
  },
  component: Outlet,
});
