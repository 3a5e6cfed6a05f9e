import { createRoute, redirect } from '@tanstack/react-router';
import { lastWorkspace, workspacesQuery } from '../lib/session';
import { appLayout } from './base';

/** `/`: the workspace worked in last, else the first one, else the page to create one. */
export const homeRoute = createRoute({
  getParentRoute: () => appLayout,
  path: '/',
  beforeLoad: async ({ context }) => {
    const workspaces = await context.queryClient.ensureQueryData(workspacesQuery);
    const last = lastWorkspace();
    const target = workspaces.find((workspace) => workspace.id === last) ?? workspaces[0];
    throw target
      ? redirect({ to: '/w/$workspaceId/projects', params: { workspaceId: target.id } })
      : redirect({ to: '/workspaces/new' });
  },
});
