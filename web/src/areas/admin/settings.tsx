import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Card, Field, PageHeader, Spinner } from '../../components/ui';
import { formValues } from '../../lib/forms';
import { useCan } from '../../lib/roles';
import { workspaceQuery } from './queries';
import { settingsRoute } from './routes';

const PLAN_NAMES = { free: 'Free', pro: 'Pro', team: 'Team' } as const;

export function Settings() {
  const { workspaceId } = settingsRoute.useParams();
  const workspace = useQuery(workspaceQuery(workspaceId));
  const usage = useQuery({
    queryKey: ['workspace', workspaceId, 'usage'],
    queryFn: () =>
      unwrap(api.GET('/api/workspaces/{id}/usage', { params: { path: { id: workspaceId } } })),
    // Running builds add minutes as they go.
    refetchInterval: (query) =>
      (query.state.data?.usage.running_builds ?? 0) > 0 ? 10_000 : false,
  });
  const data = usage.data;
  const month = data
    ? new Date(data.period_start).toLocaleDateString(undefined, {
        month: 'long',
        year: 'numeric',
        timeZone: 'UTC',
      })
    : '';

  return (
    <div className="flex flex-col gap-6 [&>:first-child]:mb-0">
      <PageHeader title="Plan & usage">
        {workspace.data ? (
          <>
            {workspace.data.name} · <code className="font-mono">{workspace.data.slug}</code>
          </>
        ) : null}
      </PageHeader>
      <ErrorNotice error={usage.error} />
      {usage.isPending ? (
        <Spinner />
      ) : (
        data && (
          <div className="grid gap-4 md:grid-cols-2">
            <Card title={`${PLAN_NAMES[data.plan]} plan`}>
              <dl className="grid grid-cols-[1fr_auto] gap-x-4 gap-y-2 text-sm">
                <dt className="text-muted">Builds running at once</dt>
                <dd>
                  <Meter used={data.usage.running_builds} limit={data.limits.concurrent_builds} />
                </dd>
                <dt className="text-muted">API requests per minute, per access token</dt>
                <dd className="text-right">
                  {data.limits.api_requests_per_minute.toLocaleString()}
                </dd>
              </dl>
              <p className="mt-3 text-xs text-muted">
                Builds beyond the limit wait in the queue. Plans are changed by the platform's
                operator.
              </p>
            </Card>
            <Card title={`Usage in ${month}`}>
              <dl className="grid grid-cols-[1fr_auto] gap-x-4 gap-y-2 text-sm">
                <Figure label="Builds" value={data.usage.builds_this_month} />
                <Figure
                  label="Build minutes"
                  value={Math.round(data.usage.build_seconds_this_month / 6) / 10}
                />
                <Figure label="Deployments" value={data.usage.deployments_this_month} />
              </dl>
              <p className="mt-3 text-xs text-muted">Counted from the 1st of the month (UTC).</p>
            </Card>
            <Card title="Workspace">
              <dl className="grid grid-cols-[1fr_auto] gap-x-4 gap-y-2 text-sm">
                <Figure label="Projects" value={data.usage.projects} />
                <Figure label="Members" value={data.usage.members} />
                <Figure label="Pending invitations" value={data.usage.pending_invites} />
                <Figure label="Runners" value={data.usage.runners} />
              </dl>
            </Card>
            {workspace.data && <Rename workspaceId={workspaceId} name={workspace.data.name} />}
          </div>
        )
      )}
    </div>
  );
}

function Figure({ label, value }: { label: string; value: number }) {
  return (
    <>
      <dt className="text-muted">{label}</dt>
      <dd className="text-right font-medium tabular-nums">{value.toLocaleString()}</dd>
    </>
  );
}

function Meter({ used, limit }: { used: number; limit: number }) {
  return (
    <div className="flex items-center justify-end gap-2">
      <meter
        min={0}
        max={limit}
        value={used}
        aria-label="Builds running of the plan's limit"
        className="h-2 w-20"
      />
      <span className="tabular-nums">
        {used} / {limit}
      </span>
    </div>
  );
}

function Rename({ workspaceId, name }: { workspaceId: string; name: string }) {
  const isAdmin = useCan(workspaceId, 'admin');
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState(false);
  const rename = useMutation({
    mutationFn: (values: Record<string, string>) =>
      unwrap(
        api.PATCH('/api/workspaces/{id}', {
          params: { path: { id: workspaceId } },
          body: { name: values.name ?? '' },
        }),
      ),
    onSuccess: async (updated) => {
      queryClient.setQueryData(['workspace', workspaceId], updated);
      await queryClient.invalidateQueries({ queryKey: ['workspaces'] });
      setSaved(true);
    },
  });
  return (
    <Card title="Name">
      {isAdmin ? (
        <form
          className="flex flex-col gap-3"
          onSubmit={(event) => {
            setSaved(false);
            rename.mutate(formValues(event));
          }}
        >
          <ErrorNotice error={rename.error} />
          <Field label="Workspace name" name="name" defaultValue={name} required maxLength={100} />
          <div className="flex items-center gap-3">
            <Button tone="primary" type="submit" disabled={rename.isPending}>
              Rename workspace
            </Button>
            {saved && (
              <span role="status" className="text-sm text-ok">
                Saved.
              </span>
            )}
          </div>
        </form>
      ) : (
        <p className="text-sm">
          {name}
          <span className="mt-1 block text-xs text-muted">Admins can rename the workspace.</span>
        </p>
      )}
    </Card>
  );
}
