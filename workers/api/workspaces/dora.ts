import { authorizeWorkspace } from '../../auth/authorize';
import { doraRouter } from '../dora/route';

/** `/api/workspaces/{id}/dora`: every project's production deployments together. */
export const workspaceDoraRoutes = doraRouter({
  summary: "The workspace's DORA metrics over a window, all its projects together (viewer)",
  authorize: async (c, id) => {
    await authorizeWorkspace(c, id, 'viewer');
    return { workspaceId: id };
  },
});
