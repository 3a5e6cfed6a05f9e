import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { ErrorNotice } from '../../components/error-notice';
import { Card, EmptyState, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';

const sessionsQuery = queryOptions({
  queryKey: ['sessions'],
  queryFn: async () => (await unwrap(api.GET('/api/auth/sessions'))).sessions,
});

/** Where the account is signed in; any other session can be signed out from here. */
export function SessionsCard() {
  const sessions = useQuery(sessionsQuery);
  const queryClient = useQueryClient();
  const revoke = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE('/api/auth/sessions/{id}', { params: { path: { id } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: sessionsQuery.queryKey }),
  });
  return (
    <Card title="Sessions">
      <ErrorNotice error={sessions.error ?? revoke.error} />
      {sessions.isPending ? (
        <Spinner />
      ) : sessions.data?.length === 0 ? (
        <EmptyState title="No active sessions">Sign in to start one.</EmptyState>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-muted">
              <tr>
                <th className="py-2 pr-4 font-medium">Browser or client</th>
                <th className="py-2 pr-4 font-medium">Address</th>
                <th className="py-2 pr-4 font-medium">Signed in</th>
                <th className="py-2 pr-4 font-medium">Last active</th>
                <th className="py-2 font-medium">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.data?.map((session) => (
                <tr key={session.id} className="border-t border-line">
                  <td className="max-w-xs truncate py-2 pr-4" title={session.user_agent ?? ''}>
                    {session.user_agent ?? 'Unknown client'}
                  </td>
                  <td className="py-2 pr-4">{session.ip ?? '—'}</td>
                  <td className="py-2 pr-4">{timeAgo(session.created_at)}</td>
                  <td className="py-2 pr-4">{timeAgo(session.last_seen_at)}</td>
                  <td className="py-2 text-right">
                    {session.current ? (
                      <span className="text-xs font-medium text-ok">This session</span>
                    ) : (
                      <ConfirmButton
                        label="Revoke"
                        tone="danger"
                        title="Revoke this session?"
                        description="The browser or client using it is signed out at once and must sign in again."
                        onConfirm={() => revoke.mutateAsync(session.id).catch(() => undefined)}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
