import { createRoute, z } from '@hono/zod-openapi';
import { projectPollInterval, workspaceProject } from '../../../domain/polling/heads';
import { pollNow } from '../../../domain/polling/watch';
import { ApiError } from '../../../platform/errors';
import { authorizeProject } from '../../auth/authorize';
import { errorResponse, openApiErrorResponses } from '../../errors';
import { json } from '../../openapi';
import { newRouter } from '../../router';
import { ProjectParams } from './schemas';

const PollRequestedSchema = z
  .object({
    status: z.literal('requested'),
    runner_id: z.uuid().openapi({ description: 'The runner that polls the repository' }),
  })
  .openapi('PollRequested');

/** `/api/projects/{id}/poll`: what `sparki hooks install`'s git hooks call after a commit. */
export const projectPollingRoutes = newRouter();

projectPollingRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/poll',
    tags: ['projects'],
    summary: 'Poll the repository’s branch heads now (developer)',
    description:
      'For a repository a runner polls (`poll_interval_seconds`, docs/cli.md): the runner ' +
      'polling it runs `git ls-remote` at once instead of at its next interval, and reports new ' +
      'heads as pushes. The git hooks `sparki hooks install` adds call this after each commit. ' +
      'Idempotent: a head already reported builds nothing.',
    request: { params: ProjectParams },
    responses: {
      202: { description: 'The runner was asked to poll', ...json(PollRequestedSchema) },
      ...openApiErrorResponses,
      409: errorResponse('The repository is not polled (`poll_interval_seconds` is 0 or off)'),
      503: errorResponse('No runner of the workspace is connected to poll it'),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const access = await authorizeProject(c, id, 'developer');
    const db = c.get('services').db();
    const project = await workspaceProject(db, access.workspaceId, id);
    if (!project || projectPollInterval(project) === null) {
      throw new ApiError(
        'conflict',
        'This project’s repository is not polled; set poll_interval_seconds in its settings',
      );
    }
    const runnerId = await pollNow(c.env, access.workspaceId, id);
    if (!runnerId) {
      throw new ApiError(
        'not_ready',
        'No runner of the workspace is connected to poll the repository; start `sparki runner`',
      );
    }
    return c.json({ status: 'requested' as const, runner_id: runnerId }, 202);
  },
);
