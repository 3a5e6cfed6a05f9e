import { createRoute, z } from '@hono/zod-openapi';
import { CommitReportSchema } from '../../core/runner-protocol';
import { recordBuildCommit } from '../../domain/builds/jobs';
import { announceBuildStatus } from '../../domain/reporting/build-status';
import { ApiError } from '../../platform/errors';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { authorizeJob } from './auth';

export const jobCommitRoutes = newRouter();

jobCommitRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{buildId}/commit',
    tags: ['runner protocol'],
    summary: 'Report the commit the runner checked out',
    description:
      'Sent right after checkout. The sha is recorded only if the build has none yet (a build ' +
      'of a branch head), so commit statuses and deployments name the commit that was really ' +
      'built; a build that already has one keeps it (409 if the report names another). ' +
      '`committed_at` fills the commit time the DORA lead time starts from, when the webhook ' +
      'gave none. Idempotent.',
    request: { params: z.object({ buildId: z.uuid() }), ...jsonBody(CommitReportSchema) },
    responses: {
      200: {
        description: 'The build’s commit',
        ...json(z.object({ commit_sha: z.string(), recorded: z.boolean() })),
      },
      401: { description: 'No job token, a token for another build, or one whose lease has ended' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const { commit_sha: sha, committed_at: committedAt } = c.req.valid('json');
    const { build, claims } = await authorizeJob(c, buildId);
    const recorded = await recordBuildCommit(
      c.get('services').db(),
      buildId,
      claims.attempt,
      sha,
      committedAt ? new Date(committedAt) : undefined,
    );
    if (recorded) {
      // The running status could not be set without a commit: now it can.
      await announceBuildStatus(c.env, [buildId], c.get('logger'));
      return c.json({ commit_sha: sha, recorded: true }, 200);
    }
    if (build.commitSha !== sha) {
      throw new ApiError('conflict', `The build is of commit ${build.commitSha}, not ${sha}`);
    }
    return c.json({ commit_sha: sha, recorded: false }, 200);
  },
);
