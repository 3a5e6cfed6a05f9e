import { authorizeProject } from '../../auth/authorize';
import { doraRouter } from '../dora/route';

/** `/api/projects/{id}/dora`. */
export const projectDoraRoutes = doraRouter({
  summary: "The project's DORA metrics over a window (viewer)",
  authorize: async (c, id) => {
    await authorizeProject(c, id, 'viewer');
    return { projectId: id };
  },
});
