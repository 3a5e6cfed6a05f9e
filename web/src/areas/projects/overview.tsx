import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { createRoute, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { ErrorNotice } from '../../components/error-notice';
import { StatusBadge } from '../../components/status-badge';
import { Card, EmptyState, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { useCan } from '../../lib/roles';
import { projectQuery, projectRoute } from '../../routes/project';
import { BuildsTable } from './builds-table';
import { DetectionSummary } from './detection-summary';
import { buildsQuery, deploymentsQuery, inProgress, LIVE_INTERVAL } from './queries';
import { StartBuild } from './start-build';
import { hasFreshSecret, WebhookSetup } from './webhook-setup';

export const overviewRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: '/',
  component: Overview,
});

function Overview() {
  const { projectId } = overviewRoute.useParams();
  const loaded = projectRoute.useLoaderData();
  // The project changes as builds run (framework, detection, production URL): kept fresh then.
  const { data: project = loaded, error } = useQuery({
    ...projectQuery(projectId),
    refetchInterval: (query) =>
      inProgress(query.state.data?.latest_build?.status) ? LIVE_INTERVAL : false,
  });
  const canBuild = useCan(project.workspace_id, 'developer');
  const builds = useInfiniteQuery(buildsQuery(projectId, {}, 5));
  const deployments = useQuery(deploymentsQuery(projectId, 5));
  const production = deployments.data?.find(
    (deployment) => deployment.stage === 'production' && deployment.status === 'live',
  );
  const latestBuilds = builds.data?.pages[0]?.builds ?? [];
  // Just created: the webhook (and its secret, shown once) comes first.
  const [justCreated] = useState(() => hasFreshSecret(projectId));

  return (
    <div className="flex flex-col gap-4">
      <ErrorNotice error={error} />
      {justCreated && <WebhookSetup project={project} />}
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Production">
          {project.production_url ? (
            <div className="flex flex-col gap-1 text-sm">
              <a
                href={project.production_url}
                target="_blank"
                rel="noreferrer"
                className="break-all text-base font-medium text-accent underline-offset-2 hover:underline"
              >
                {project.production_url}
              </a>
              {production && (
                <p className="text-muted">
                  <Link
                    to="/deployments/$deploymentId"
                    params={{ deploymentId: production.id }}
                    className="text-accent underline-offset-2 hover:underline"
                  >
                    Deployment
                  </Link>{' '}
                  live since {timeAgo(production.finished_at ?? production.created_at)}
                </p>
              )}
            </div>
          ) : (
            <p className="text-sm text-muted">
              Nothing is live yet: a successful build of {project.production_branch} deploys to
              production.
            </p>
          )}
        </Card>
        <Card title="Repository">
          <dl className="grid grid-cols-[9rem_1fr] gap-y-1 text-sm">
            <dt className="text-muted">URL</dt>
            <dd className="break-all font-mono">{project.repo_url ?? '—'}</dd>
            <dt className="text-muted">Production branch</dt>
            <dd className="font-mono">{project.production_branch}</dd>
            <dt className="text-muted">Root directory</dt>
            <dd className="font-mono">{project.root_dir || '/'}</dd>
            <dt className="text-muted">Git provider</dt>
            <dd>{project.git_provider}</dd>
          </dl>
        </Card>
      </div>

      {canBuild && (
        <Card title="Start a build">
          <StartBuild project={project} />
        </Card>
      )}

      <Card
        title="Latest builds"
        actions={
          <Link
            to="/projects/$projectId/builds"
            params={{ projectId }}
            className="text-sm text-accent underline-offset-2 hover:underline"
          >
            All builds
          </Link>
        }
      >
        <ErrorNotice error={builds.error} />
        {builds.isPending ? (
          <Spinner label="Loading builds" />
        ) : latestBuilds.length === 0 ? (
          <EmptyState title="No builds yet">
            {canBuild
              ? 'Start one above, or push to the repository once the webhook is set up.'
              : 'A push to the repository starts one once the webhook is set up.'}
          </EmptyState>
        ) : (
          <BuildsTable builds={latestBuilds} caption="Latest builds" />
        )}
      </Card>

      <Card title="Latest deployments">
        <ErrorNotice error={deployments.error} />
        {deployments.isPending ? (
          <Spinner label="Loading deployments" />
        ) : deployments.data?.length === 0 ? (
          <EmptyState title="No deployments yet">
            Every successful build deploys: the production branch to production, other branches as
            previews.
          </EmptyState>
        ) : (
          <ul className="divide-y divide-line text-sm">
            {deployments.data?.map((deployment) => (
              <li key={deployment.id} className="flex flex-wrap items-center gap-2 py-2">
                <Link
                  to="/deployments/$deploymentId"
                  params={{ deploymentId: deployment.id }}
                  className="font-medium text-accent underline-offset-2 hover:underline"
                >
                  {deployment.stage}
                </Link>
                <StatusBadge status={deployment.status} />
                {deployment.url && (
                  <a
                    href={deployment.url}
                    target="_blank"
                    rel="noreferrer"
                    className="break-all text-muted underline-offset-2 hover:underline"
                  >
                    {deployment.url}
                  </a>
                )}
                <span className="ml-auto text-muted">{timeAgo(deployment.created_at)}</span>
              </li>
            ))}
          </ul>
        )}
      </Card>

      <Card title="Detection">
        {project.detection ? (
          <div className="flex flex-col gap-2">
            <p className="text-sm text-muted">
              As build #{project.detection.build_number} found it,{' '}
              {timeAgo(project.detection.detected_at)}.
            </p>
            <DetectionSummary detection={project.detection} />
          </div>
        ) : (
          <p className="text-sm text-muted">
            Detected on the first build: the runner reads the checkout and decides the framework,
            package manager, commands and output directory.
          </p>
        )}
      </Card>

      {!justCreated && <WebhookSetup project={project} />}
    </div>
  );
}
