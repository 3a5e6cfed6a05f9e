import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createRoute, Link } from '@tanstack/react-router';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Spinner } from '../../components/ui';
import { meQuery } from '../../lib/session';
import { publicLayout } from '../../routes/base';
import { AuthCard } from './auth-card';
import { useFragment } from './fragment';
import { MissingToken } from './verify-email';

/**
 * `/invites/accept#token=…`: the link of an invitation mail. Accepting needs the invited address
 * signed in; a signed-out visitor signs in or up first and comes back here with the token.
 */
export const acceptInviteRoute = createRoute({
  getParentRoute: () => publicLayout,
  path: '/invites/accept',
  component: AcceptInvite,
});

const linkButton =
  'inline-flex justify-center rounded-md px-3 py-2 text-sm font-medium border border-line hover:bg-canvas';

function AcceptInvite() {
  // Kept in the address bar: the page must still work after a reload or a sign-in round trip.
  const token = useFragment({ keep: true }).get('token');
  const queryClient = useQueryClient();
  const me = useQuery({ ...meQuery, retry: false });
  const accept = useMutation({
    mutationFn: () => unwrap(api.POST('/api/invites/accept', { body: { token: token ?? '' } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['workspaces'] }),
  });
  const signOut = useMutation({
    mutationFn: () => api.POST('/api/auth/logout'),
    onSuccess: () => {
      accept.reset();
      queryClient.resetQueries({ queryKey: meQuery.queryKey });
    },
  });

  if (!token) return <MissingToken />;
  if (me.isPending) return <Spinner label="Checking who is signed in" />;
  const returnTo = `/invites/accept#${new URLSearchParams({ token })}`;

  if (me.isError) {
    return (
      <AuthCard title="Join a workspace">
        <p className="text-sm">
          Sign in with the address the invitation was sent to, or create an account with it, then
          you come back here to join.
        </p>
        <div className="flex flex-wrap gap-2">
          <Link
            to="/sign-in"
            search={{ return_to: returnTo }}
            className={`${linkButton} bg-accent text-accent-ink`}
          >
            Sign in to accept
          </Link>
          <Link to="/sign-up" search={{ return_to: returnTo }} className={linkButton}>
            Create an account
          </Link>
        </div>
      </AuthCard>
    );
  }

  if (accept.isSuccess) {
    return (
      <AuthCard title="You joined the workspace" status>
        <p className="text-sm">
          You are a member with the role <strong>{accept.data.role}</strong>.
        </p>
        <Link
          to="/w/$workspaceId/projects"
          params={{ workspaceId: accept.data.workspace_id }}
          className={`${linkButton} bg-accent text-accent-ink`}
        >
          Open the workspace
        </Link>
      </AuthCard>
    );
  }

  return (
    <AuthCard title="Join a workspace">
      <p className="text-sm">
        Signed in as <strong>{me.data.email}</strong>.
      </p>
      <ErrorNotice error={accept.error} />
      {accept.isError && (
        <p className="text-sm text-muted">
          An invitation works only for the address it was sent to, once, for seven days.
        </p>
      )}
      <div className="flex flex-wrap gap-2">
        <Button tone="primary" disabled={accept.isPending} onClick={() => accept.mutate()}>
          {accept.isPending ? 'Joining…' : 'Accept invitation'}
        </Button>
        <Button disabled={signOut.isPending} onClick={() => signOut.mutate()}>
          Sign in as someone else
        </Button>
      </div>
    </AuthCard>
  );
}
