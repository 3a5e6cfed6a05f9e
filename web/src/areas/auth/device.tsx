import { useMutation, useQuery } from '@tanstack/react-query';
import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { api, type Schemas, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Card, EmptyState, Field, PageHeader, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { formValues } from '../../lib/forms';
import { workspacesQuery } from '../../lib/session';
import { appLayout } from '../../routes/base';
import { type Scope, TokenTargetFields } from './token-fields';

type DeviceSearch = { user_code?: string };

/**
 * `/device`: where `sparki login` (RFC 8628's verification URI) sends people. Behind sign-in, so a
 * signed-out visitor signs in first and comes back with the code still in `?user_code=`.
 */
export const deviceRoute = createRoute({
  getParentRoute: () => appLayout,
  path: '/device',
  validateSearch: (search: Record<string, unknown>): DeviceSearch =>
    typeof search.user_code === 'string' && search.user_code
      ? { user_code: search.user_code.slice(0, 20) }
      : {},
  component: DevicePage,
});

function CodeForm({ initial }: { initial?: string }) {
  const navigate = useNavigate();
  return (
    <form
      className="flex flex-col gap-3 sm:max-w-sm"
      onSubmit={(event) => {
        const { user_code } = formValues(event);
        navigate({ to: '/device', search: { user_code: user_code?.trim() || undefined } });
      }}
    >
      <Field
        label="Code"
        name="user_code"
        defaultValue={initial}
        placeholder="ABCD-EFGH"
        autoComplete="off"
        autoCapitalize="characters"
        spellCheck={false}
        maxLength={20}
        hint="The code that sparki login printed in your terminal."
        required
      />
      <div>
        <Button tone="primary" type="submit">
          Continue
        </Button>
      </div>
    </form>
  );
}

function Decide({ grant }: { grant: Schemas['DeviceGrant'] }) {
  const workspaces = useQuery(workspacesQuery);
  const path = { user_code: grant.user_code };
  const approve = useMutation({
    mutationFn: (values: Record<string, string>) =>
      unwrap(
        api.POST('/api/auth/device/{user_code}/approve', {
          params: { path },
          body: {
            workspace_id: values.workspace_id ?? '',
            scope: (values.scope ?? 'write') as Scope,
          },
        }),
      ),
  });
  const deny = useMutation({
    mutationFn: () => unwrap(api.POST('/api/auth/device/{user_code}/deny', { params: { path } })),
  });

  if (approve.isSuccess) {
    return (
      <Card title="Approved">
        <p role="status">
          <strong>{grant.client_name}</strong> is signed in. You can close this page and go back to
          your terminal. The token is listed under{' '}
          <Link to="/account" className="text-accent underline">
            Personal access tokens
          </Link>
          , where you can revoke it.
        </p>
      </Card>
    );
  }
  if (deny.isSuccess) {
    return (
      <Card title="Denied">
        <p role="status">
          The request was denied; <strong>{grant.client_name}</strong> is not signed in.
        </p>
      </Card>
    );
  }
  if (workspaces.isPending) return <Spinner />;
  if (workspaces.data?.length === 0) {
    return (
      <EmptyState title="A CLI token works in one workspace">
        <Link to="/workspaces/new" className="text-accent underline">
          Create a workspace
        </Link>{' '}
        first, then open this page again.
      </EmptyState>
    );
  }
  const busy = approve.isPending || deny.isPending;
  return (
    <Card title="Sign in a device?">
      <form className="flex flex-col gap-4" onSubmit={(event) => approve.mutate(formValues(event))}>
        <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-muted">Asking</dt>
          <dd className="font-medium">{grant.client_name}</dd>
          <dt className="text-muted">Code</dt>
          <dd className="font-mono text-lg tracking-widest" data-testid="user-code">
            {grant.user_code}
          </dd>
          <dt className="text-muted">From</dt>
          <dd className="break-all">
            {grant.request_ip ?? 'unknown address'}
            {grant.request_user_agent && (
              <span className="text-muted"> · {grant.request_user_agent}</span>
            )}
          </dd>
          <dt className="text-muted">Asked</dt>
          <dd>
            {timeAgo(grant.created_at)} · expires {timeAgo(grant.expires_at)}
          </dd>
        </dl>
        <p className="text-sm text-muted">
          Approve only if you just ran <code>sparki login</code> and your terminal shows this code.
          The device gets a token that acts as you in the workspace you choose.
        </p>
        <ErrorNotice error={approve.error ?? deny.error ?? workspaces.error} />
        <div className="flex flex-col gap-3 sm:max-w-md">
          <TokenTargetFields workspaces={workspaces.data ?? []} defaultScope="write" />
        </div>
        <div className="flex flex-wrap gap-2">
          <Button tone="primary" type="submit" disabled={busy}>
            {approve.isPending ? 'Approving…' : 'Approve'}
          </Button>
          <Button tone="danger" disabled={busy} onClick={() => deny.mutate()}>
            {deny.isPending ? 'Denying…' : 'Deny'}
          </Button>
        </div>
      </form>
    </Card>
  );
}

function Pending({ userCode }: { userCode: string }) {
  const grant = useQuery({
    queryKey: ['device-grant', userCode],
    queryFn: () =>
      unwrap(
        api.GET('/api/auth/device/{user_code}', { params: { path: { user_code: userCode } } }),
      ),
    retry: false,
    // Decided here once: a later refetch would find the code spent and replace the outcome.
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });
  if (grant.isPending) return <Spinner />;
  if (grant.error) {
    return (
      <div className="flex flex-col gap-4">
        <ErrorNotice error={grant.error} />
        <p className="text-sm text-muted">
          Codes work once and expire after 15 minutes. Check the code in your terminal, or run{' '}
          <code>sparki login</code> again for a new one.
        </p>
        <CodeForm initial={userCode} />
      </div>
    );
  }
  return <Decide grant={grant.data} />;
}

function DevicePage() {
  const { user_code } = deviceRoute.useSearch();
  return (
    <div className="mx-auto max-w-2xl">
      <PageHeader title="Sign in the Sparki CLI">
        Confirm the code a device shows to let it act as you.
      </PageHeader>
      {user_code ? <Pending key={user_code} userCode={user_code} /> : <CodeForm />}
    </div>
  );
}
