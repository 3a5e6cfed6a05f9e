import { queryOptions } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
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
  if (localStorage.getItem(LAST_WORKSPACE) === id) return;
  localStorage.setItem(LAST_WORKSPACE, id);
  window.dispatchEvent(new Event(LAST_WORKSPACE));
}

export function lastWorkspace(): string | null {
  return localStorage.getItem(LAST_WORKSPACE);
}

function onWorkspaceRemembered(notify: () => void) {
  window.addEventListener(LAST_WORKSPACE, notify);
  return () => window.removeEventListener(LAST_WORKSPACE, notify);
}

/** The last workspace, re-read when a page (a project, a build) remembers another one. */
export function useLastWorkspace(): string | null {
  return useSyncExternalStore(onWorkspaceRemembered, lastWorkspace);
}
