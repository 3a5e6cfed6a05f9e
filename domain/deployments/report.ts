import { eq } from 'drizzle-orm';
import { builds, deployments } from '../../db/schema';
import type { TaskContext } from '../../platform/services';
import { previewCommentMarker, reportToRepository } from '../reporting/report';
import type { Fetch } from './adapters';

const REPORTED_STATES = { live: 'success', failed: 'failure', rolled_back: 'failure' } as const;

/** The outcome as a commit status on the build's commit (and the preview URL on its pull request). */
export async function reportDeployment(
  context: TaskContext,
  deploymentId: string,
  options: { fetch?: Fetch },
) {
  const db = context.services.db();
  const [row] = await db
    .select({ deployment: deployments, build: builds })
    .from(deployments)
    .innerJoin(builds, eq(builds.id, deployments.buildId))
    .where(eq(deployments.id, deploymentId));
  if (!row) return;
  const { deployment, build } = row;
  // A branch-head build has no commit of its own to carry a status.
  if (!build.commitSha || !Object.hasOwn(REPORTED_STATES, deployment.status)) return;
  const status = deployment.status as keyof typeof REPORTED_STATES;
  const description = {
    live: `Live on ${deployment.stage}`,
    failed: `Failed: ${deployment.error}`,
    // Without an error it was rolled back by hand, not for failing.
    rolled_back: deployment.error ? `Failed and rolled back: ${deployment.error}` : 'Rolled back',
  }[status];
  const preview = deployment.status === 'live' && deployment.stage === 'preview';
  await reportToRepository(
    {
      db,
      encryptionKey: context.services.config.ENCRYPTION_KEY,
      fetch: options.fetch ?? ((request: Request) => fetch(request)),
      logger: context.logger,
    },
    deployment.projectId,
    {
      sha: build.commitSha,
      state: REPORTED_STATES[status],
      context: `sparki/deploy (${deployment.stage})`,
      description,
      ...(deployment.url ? { targetUrl: deployment.url } : {}),
    },
    preview && build.pullRequest && deployment.url
      ? {
          number: build.pullRequest,
          // One comment per environment and pull request, edited by each new preview.
          marker: previewCommentMarker(deployment.environmentId),
          body: `Preview of ${build.commitSha.slice(0, 7)} (build #${build.number}) is live: ${deployment.url}`,
        }
      : undefined,
  );
}
