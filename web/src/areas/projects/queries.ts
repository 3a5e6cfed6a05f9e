import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { api, type Schemas, unwrap } from '../../api/client';

export type Project = Schemas['Project'];
export type Build = Schemas['Build'];
export type Deployment = Schemas['Deployment'];
export type BuildStatus = Build['status'];
export type BuildTrigger = Build['trigger'];

export const BUILD_STATUSES: BuildStatus[] = [
  'queued',
  'planned',
  'running',
  'succeeded',
  'failed',
  'canceled',
  'timed_out',
];
export const BUILD_TRIGGERS: BuildTrigger[] = [
  'push',
  'pull_request',
  'tag',
  'manual',
  'retry',
  'api',
];

const UNFINISHED_BUILDS = new Set<string>(['queued', 'planned', 'running']);
const FINISHED_DEPLOYMENTS = new Set<string>([
  'live',
  'failed',
  'rolled_back',
  'canceled',
  'retired',
]);

/** While a build is waiting or running, its status changes without the page being reloaded. */
export const LIVE_INTERVAL = 3_000;

export function inProgress(status: string | null | undefined): boolean {
  return status != null && UNFINISHED_BUILDS.has(status);
}

export function deploymentInProgress(status: string): boolean {
  return !FINISHED_DEPLOYMENTS.has(status);
}

export const projectsQuery = (workspaceId: string) =>
  queryOptions({
    queryKey: ['workspace', workspaceId, 'projects'],
    queryFn: async () =>
      (
        await unwrap(
          api.GET('/api/workspaces/{id}/projects', { params: { path: { id: workspaceId } } }),
        )
      ).projects,
    refetchInterval: (query) =>
      query.state.data?.some((project) => inProgress(project.latest_build?.status))
        ? LIVE_INTERVAL
        : false,
  });

export interface BuildFilters {
  branch?: string | undefined;
  status?: BuildStatus | undefined;
  trigger?: BuildTrigger | undefined;
}

/** A project's builds, newest first, page by page (the API's cursor), with the given filters. */
export const buildsQuery = (projectId: string, filters: BuildFilters, limit = 20) =>
  infiniteQueryOptions({
    queryKey: ['project', projectId, 'builds', filters, limit],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/projects/{id}/builds', {
          params: {
            path: { id: projectId },
            query: {
              ...(filters.branch ? { branch: filters.branch } : {}),
              ...(filters.status ? { status: filters.status } : {}),
              ...(filters.trigger ? { trigger: filters.trigger } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
              limit,
            },
          },
        }),
      ),
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.builds.some((build) => inProgress(build.status)))
        ? LIVE_INTERVAL
        : false,
  });

export const deploymentsQuery = (projectId: string, limit = 5) =>
  queryOptions({
    queryKey: ['project', projectId, 'deployments', { limit }],
    queryFn: async () =>
      (
        await unwrap(
          api.GET('/api/projects/{id}/deployments', {
            params: { path: { id: projectId }, query: { limit } },
          }),
        )
      ).deployments,
    refetchInterval: (query) =>
      query.state.data?.some((deployment) => deploymentInProgress(deployment.status))
        ? LIVE_INTERVAL
        : false,
  });

/** The URL a git provider sends the project's pushes to. */
export function webhookUrl(provider: 'github' | 'gitlab' | 'gitea', projectId: string): string {
  return `${window.location.origin}/webhooks/${provider}/${projectId}`;
}

/** The provider a repository URL most likely lives on, for the form's first guess. */
export function guessProvider(repoUrl: string): Project['git_provider'] {
  if (/github\.com[/:]/i.test(repoUrl)) return 'github';
  if (/gitlab/i.test(repoUrl)) return 'gitlab';
  if (/gitea|forgejo|codeberg\.org/i.test(repoUrl)) return 'gitea';
  return 'none';
}
