import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { createRoute, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { ErrorNotice } from '../../components/error-notice';
import { StatusBadge } from '../../components/status-badge';
import { Button, EmptyState, PageHeader, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { projectRoute } from '../../routes/project';
import {
  buildName,
  DEPLOYMENT_STATUSES,
  type DeploymentFilters,
  type DeploymentStatus,
  deploymentPagesQuery,
  environmentsQuery,
} from './queries';

export const deploymentsListRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: '/deployments',
  component: DeploymentsList,
});

const SELECT = 'rounded-md border border-line bg-panel px-2 py-1.5 text-sm';

function DeploymentsList() {
  const { projectId } = deploymentsListRoute.useParams();
  const [filters, setFilters] = useState<DeploymentFilters>({});
  const environments = useQuery(environmentsQuery(projectId));
  const deployments = useInfiniteQuery(deploymentPagesQuery(projectId, filters));
  const rows = deployments.data?.pages.flatMap((page) => page.deployments);
  const filtered = Boolean(filters.environment_id || filters.status);

  return (
    <div>
      <PageHeader title="Deployments">
        Every deployment of this project, newest first. Statuses update live.
      </PageHeader>
      <div className="mb-4 flex flex-wrap items-end gap-3">
        <label className="flex flex-col gap-1 text-sm">
          <span className="font-medium">Environment</span>
          <select
            className={SELECT}
            value={filters.environment_id ?? ''}
            onChange={(e) =>
              setFilters({ ...filters, environment_id: e.target.value || undefined })
            }
          >
            <option value="">All environments</option>
            {environments.data?.environments.map((env) => (
              <option key={env.id} value={env.id}>
                {env.name}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-sm">
          <span className="font-medium">Status</span>
          <select
            className={SELECT}
            value={filters.status ?? ''}
            onChange={(e) =>
              setFilters({
                ...filters,
                status: (e.target.value || undefined) as DeploymentStatus | undefined,
              })
            }
          >
            <option value="">Any status</option>
            {DEPLOYMENT_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status.replaceAll('_', ' ')}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNotice error={deployments.error} />
      {deployments.isPending ? (
        <Spinner label="Loading deployments" />
      ) : rows?.length === 0 ? (
        <EmptyState title={filtered ? 'No deployment matches' : 'No deployments yet'}>
          {filtered ? (
            'Change the filters to see more.'
          ) : (
            <>
              A successful build deploys on its own when its environment deploys automatically; or
              deploy one from the{' '}
              <Link to="/projects/$projectId/builds" params={{ projectId }} className="underline">
                builds
              </Link>
              .
            </>
          )}
        </EmptyState>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-line">
          <table className="w-full min-w-[40rem] text-left text-sm">
            <thead className="bg-panel text-xs text-muted uppercase">
              <tr>
                <th className="px-3 py-2">Status</th>
                <th className="px-3 py-2">Environment</th>
                <th className="px-3 py-2">Build</th>
                <th className="px-3 py-2">URL</th>
                <th className="px-3 py-2">Created</th>
              </tr>
            </thead>
            <tbody>
              {rows?.map((d) => (
                <tr key={d.id} className="border-t border-line">
                  <td className="px-3 py-2">
                    <Link
                      to="/deployments/$deploymentId"
                      params={{ deploymentId: d.id }}
                      className="inline-flex items-center gap-2"
                      aria-label={`Deployment of ${buildName(d.build)} to ${d.environment.name}: ${d.status.replaceAll('_', ' ')}`}
                    >
                      <StatusBadge status={d.status} />
                      {d.serving && <span className="text-xs font-medium text-ok">serving</span>}
                    </Link>
                  </td>
                  <td className="px-3 py-2">{d.environment.name}</td>
                  <td className="px-3 py-2">
                    <Link
                      to="/deployments/$deploymentId"
                      params={{ deploymentId: d.id }}
                      className="underline-offset-2 hover:underline"
                    >
                      {buildName(d.build)}
                    </Link>
                    {d.build.branch && <span className="ml-2 text-muted">{d.build.branch}</span>}
                  </td>
                  <td className="max-w-[16rem] truncate px-3 py-2">
                    {d.url ? (
                      <a href={d.url} target="_blank" rel="noreferrer" className="text-accent">
                        {d.url.replace(/^https?:\/\//, '')}
                      </a>
                    ) : (
                      <span className="text-muted">—</span>
                    )}
                  </td>
                  <td className="px-3 py-2 text-muted">
                    <time dateTime={d.created_at} title={d.created_at}>
                      {timeAgo(d.created_at)}
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deployments.hasNextPage && (
        <div className="mt-3">
          <Button
            onClick={() => deployments.fetchNextPage()}
            disabled={deployments.isFetchingNextPage}
          >
            {deployments.isFetchingNextPage ? 'Loading…' : 'Show older deployments'}
          </Button>
        </div>
      )}
    </div>
  );
}
