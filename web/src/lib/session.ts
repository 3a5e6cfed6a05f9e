import { queryOptions } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';

export const meQuery = queryOptions({
  queryKey: ['me'],
  queryFn: () => unwrap(api.GET('/api/me')),
  staleTime: 60_000,
});

export const workspacesQuery = queryOptions({
  queryKey: ['workspaces'],
  queryFn: async () => (await unwrap(api.GET('/api/workspaces'))).workspaces,
});

const LAST_WORKSPACE = 'sparki.workspace';

/** The workspace the user worked in last, so `/` and the switcher open where they left off. */
export function rememberWorkspace(id: string) {
  localStorage.setItem(LAST_WORKSPACE, id);
}

export function lastWorkspace(): string | null {
  return localStorage.getItem(LAST_WORKSPACE);
}
