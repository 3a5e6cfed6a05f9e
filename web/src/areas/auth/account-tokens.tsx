import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api, type Schemas, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { CopyButton } from '../../components/copy-button';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Card, EmptyState, Field, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { formValues } from '../../lib/forms';
import { workspacesQuery } from '../../lib/session';
import { ShownOnce } from './account-parts';
import { type Scope, TokenTargetFields } from './token-fields';

const tokensQuery = queryOptions({
  queryKey: ['tokens'],
  queryFn: async () => (await unwrap(api.GET('/api/me/tokens'))).tokens,
});

function state(token: Schemas['ApiToken']): string {
  if (token.revoked) return 'Revoked';
  if (token.expires_at && new Date(token.expires_at).getTime() < Date.now()) return 'Expired';
  return 'Active';
}

function CreateToken({ onCreated }: { onCreated: (token: Schemas['CreatedApiToken']) => void }) {
  const workspaces = useQuery(workspacesQuery);
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: (values: Record<string, string>) =>
      unwrap(
        api.POST('/api/me/tokens', {
          body: {
            name: values.name ?? '',
            workspace_id: values.workspace_id ?? '',
            scope: (values.scope ?? 'read') as Scope,
            expires_in_days: Number(values.expires_in_days),
          },
        }),
      ),
    onSuccess: (token) => {
      onCreated(token);
      queryClient.invalidateQueries({ queryKey: tokensQuery.queryKey });
    },
  });
  if (workspaces.isPending) return <Spinner />;
  if (workspaces.data?.length === 0) {
    return (
      <EmptyState title="A token works in one workspace">
        <Link to="/workspaces/new" className="text-accent underline">
          Create a workspace
        </Link>{' '}
        first, then come back for a token.
      </EmptyState>
    );
  }
  return (
    <form
      className="flex flex-col gap-3 sm:max-w-md"
      onSubmit={(event) => {
        const form = event.currentTarget;
        create.mutate(formValues(event), { onSuccess: () => form.reset() });
      }}
    >
      <h3 className="font-medium">New token</h3>
      <ErrorNotice error={create.error ?? workspaces.error} />
      <Field label="Token name" name="name" placeholder="laptop CLI" maxLength={100} required />
      <TokenTargetFields workspaces={workspaces.data ?? []} defaultScope="read" />
      <Field
        label="Expires after (days)"
        name="expires_in_days"
        type="number"
        min={1}
        max={365}
        defaultValue={90}
        required
      />
      <div>
        <Button tone="primary" type="submit" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create token'}
        </Button>
      </div>
    </form>
  );
}

/** Personal access tokens for the API and the CLI: the secret is shown once, at creation. */
export function TokensCard() {
  const tokens = useQuery(tokensQuery);
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<Schemas['CreatedApiToken'] | null>(null);
  const revoke = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE('/api/me/tokens/{id}', { params: { path: { id } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: tokensQuery.queryKey }),
  });
  return (
    <Card title="Personal access tokens">
      <div className="flex flex-col gap-4">
        <p className="text-sm text-muted">
          For the API and scripts: send one as <code>Authorization: Bearer …</code>. Each works in
          one workspace, never above your own role there.
        </p>
        {created && (
          <ShownOnce title={`Token “${created.name}” created`} onDone={() => setCreated(null)}>
            <code className="break-all rounded bg-canvas p-2 font-mono text-sm">
              {created.token}
            </code>
            <div>
              <CopyButton text={created.token} label="Copy the token" />
            </div>
          </ShownOnce>
        )}
        <ErrorNotice error={tokens.error ?? revoke.error} />
        {tokens.isPending ? (
          <Spinner />
        ) : tokens.data?.length === 0 ? (
          <EmptyState title="No tokens yet">Create one below for the API or a script.</EmptyState>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <thead className="text-muted">
                <tr>
                  <th className="py-2 pr-4 font-medium">Name</th>
                  <th className="py-2 pr-4 font-medium">Token</th>
                  <th className="py-2 pr-4 font-medium">Workspace</th>
                  <th className="py-2 pr-4 font-medium">Scope</th>
                  <th className="py-2 pr-4 font-medium">Last used</th>
                  <th className="py-2 pr-4 font-medium">Expires</th>
                  <th className="py-2 font-medium">State</th>
                </tr>
              </thead>
              <tbody>
                {tokens.data?.map((token) => (
                  <tr key={token.id} className="border-t border-line">
                    <td className="py-2 pr-4">{token.name}</td>
                    <td className="py-2 pr-4 font-mono">{token.prefix}…</td>
                    <td className="py-2 pr-4">{token.workspace_slug}</td>
                    <td className="py-2 pr-4">{token.scope}</td>
                    <td className="py-2 pr-4">
                      {token.last_used_at ? timeAgo(token.last_used_at) : 'Never'}
                    </td>
                    <td className="py-2 pr-4">{timeAgo(token.expires_at)}</td>
                    <td className="py-2">
                      {state(token) === 'Active' ? (
                        <ConfirmButton
                          label={`Revoke ${token.name}`}
                          tone="danger"
                          title={`Revoke “${token.name}”?`}
                          description="Anything using this token is refused from now on. This cannot be undone."
                          confirmLabel="Revoke"
                          onConfirm={() => revoke.mutateAsync(token.id).catch(() => undefined)}
                        />
                      ) : (
                        <span className="text-muted">{state(token)}</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <CreateToken onCreated={setCreated} />
      </div>
    </Card>
  );
}
