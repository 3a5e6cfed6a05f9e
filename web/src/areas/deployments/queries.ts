import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { DEPLOYMENT_STATES } from '../../../../core/deploy/state-machine';
import { api, type Schemas, unwrap } from '../../api/client';
import { shortSha } from '../../lib/format';

export type DeploymentItem = Schemas['DeploymentItem'];
export type DeploymentDetail = Schemas['DeploymentDetail'];
export type DeploymentStatus = DeploymentItem['status'];

/** States the deploy engine is still working on: screens poll while one is shown. */
const IN_PROGRESS: readonly DeploymentStatus[] = ['queued', 'validating', 'deploying', 'verifying'];
export const POLL_MS = 2_000;

export const inProgress = (status: DeploymentStatus) => IN_PROGRESS.includes(status);

export const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = DEPLOYMENT_STATES;

export interface DeploymentFilters {
  environment_id?: string | undefined;
  status?: DeploymentStatus | undefined;
  stage?: 'preview' | 'production' | undefined;
}

export const deploymentsQuery = (projectId: string, filters: DeploymentFilters = {}) =>
  queryOptions({
    queryKey: ['deployments', projectId, filters],
    queryFn: () =>
      unwrap(
        api.GET('/api/projects/{id}/deployments', {
          params: { path: { id: projectId }, query: { ...filters, limit: 50 } },
        }),
      ),
    refetchInterval: (query) =>
      query.state.data?.deployments.some((d) => inProgress(d.status)) ? POLL_MS : false,
  });

const PAGE = 50;

/** The list screen's pages, older ones loaded on demand (`before`: the last one's created_at). */
export const deploymentPagesQuery = (projectId: string, filters: DeploymentFilters = {}) =>
  infiniteQueryOptions({
    queryKey: ['deployments', projectId, filters, 'pages'],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/projects/{id}/deployments', {
          params: {
            path: { id: projectId },
            query: { ...filters, limit: PAGE, ...(pageParam && { before: pageParam }) },
          },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) =>
      last.deployments.length === PAGE ? last.deployments.at(-1)?.created_at : undefined,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.deployments.some((d) => inProgress(d.status)))
        ? POLL_MS
        : false,
  });

export const deploymentQuery = (id: string) =>
  queryOptions({
    queryKey: ['deployment', id],
    queryFn: () => unwrap(api.GET('/api/deployments/{id}', { params: { path: { id } } })),
    // Live status: poll while the engine works on it (a canary step included).
    refetchInterval: (query) =>
      query.state.data && inProgress(query.state.data.status) ? POLL_MS : false,
  });

export const environmentsQuery = (projectId: string) =>
  queryOptions({
    queryKey: ['environments', projectId],
    queryFn: () =>
      unwrap(api.GET('/api/projects/{id}/environments', { params: { path: { id: projectId } } })),
  });

export const domainsQuery = (projectId: string) =>
  queryOptions({
    queryKey: ['domains', projectId],
    queryFn: () =>
      unwrap(api.GET('/api/projects/{id}/domains', { params: { path: { id: projectId } } })),
  });

/** "build #12 (abc1234)": how a deployment's build is named in what the screens say. */
export function buildName(build: DeploymentItem['build']): string {
  return build.commit_sha
    ? `build #${build.number} (${shortSha(build.commit_sha)})`
    : `build #${build.number}`;
}
