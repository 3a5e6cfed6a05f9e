import { queryOptions } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';

/** The workspace itself, with the caller's role; the same key the workspace route loads. */
export const workspaceQuery = (id: string) =>
  queryOptions({
    queryKey: ['workspace', id],
    queryFn: () => unwrap(api.GET('/api/workspaces/{id}', { params: { path: { id } } })),
  });

export const membersQuery = (id: string) =>
  queryOptions({
    queryKey: ['workspace', id, 'members'],
    queryFn: async () =>
      (await unwrap(api.GET('/api/workspaces/{id}/members', { params: { path: { id } } }))).members,
  });

export const invitesQuery = (id: string) =>
  queryOptions({
    queryKey: ['workspace', id, 'invites'],
    queryFn: async () =>
      (await unwrap(api.GET('/api/workspaces/{id}/invites', { params: { path: { id } } }))).invites,
  });
