import { queryOptions, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import { api, type Schemas, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { ErrorNotice } from '../../components/error-notice';
import { StatusBadge } from '../../components/status-badge';
import { PageHeader, Spinner } from '../../components/ui';
import { duration, shortSha, timeAgo } from '../../lib/format';
import { useCan } from '../../lib/roles';
import { rememberWorkspace } from '../../lib/session';
import { projectQuery } from '../../routes/project';
import { LogView } from './log-view';
import { BuildTimeline } from './timeline';
import { type Connection, useLiveLog } from './use-live-log';
import { useNow } from './use-now';

type Build = Schemas['BuildWithSteps'];

const FINISHED: readonly string[] = ['succeeded', 'failed', 'canceled', 'timed_out'];
const isFinished = (status: string) => FINISHED.includes(status);

export const buildQuery = (buildId: string) =>
  queryOptions({
    queryKey: ['build', buildId],
    queryFn: () => unwrap(api.GET('/api/builds/{id}', { params: { path: { id: buildId } } })),
    // The status changes without a reload while the build is in progress.
    refetchInterval: (query) =>
      query.state.data && isFinished(query.state.data.status) ? false : 3000,
  });

const runnersQuery = (workspaceId: string) =>
  queryOptions({
    queryKey: ['workspace', workspaceId, 'runners'],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{id}/runners', { params: { path: { id: workspaceId } } }),
      ).then((page) => page.runners),
    staleTime: 60_000,
  });

const TRIGGERS: Record<Build['trigger'], string> = {
  push: 'Push',
  pull_request: 'Pull request',
  tag: 'Tag',
  manual: 'Started by hand',
  retry: 'Retry',
  api: 'API',
};

const CONNECTION: Record<Connection, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  ended: 'Complete',
  failed: 'Not connected',
};

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-muted">{label}</dt>
      <dd className="truncate text-sm">{children}</dd>
    </div>
  );
}

function Timings({ build }: { build: Build }) {
  const started = build.started_at ? Date.parse(build.started_at) : null;
  const finished = build.finished_at ? Date.parse(build.finished_at) : null;
  const now = useNow(started !== null && finished === null);
  return (
    <>
      <Fact label="Queued">
        <time dateTime={build.queued_at}>{timeAgo(build.queued_at)}</time>
      </Fact>
      <Fact label="Started">
        {build.started_at ? (
          <time dateTime={build.started_at}>{timeAgo(build.started_at)}</time>
        ) : (
          '—'
        )}
      </Fact>
      <Fact label="Duration">{started === null ? '—' : duration((finished ?? now) - started)}</Fact>
    </>
  );
}

function Actions({
  build,
  workspaceId,
  onError,
}: {
  build: Build;
  workspaceId: string | undefined;
  /** A refused action (e.g. the build finished meanwhile, or the role changed): shown on the page. */
  onError: (error: unknown) => void;
}) {
  const canAct = useCan(workspaceId, 'developer');
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  if (!canAct) return null;
  const act = (action: () => Promise<unknown>) => async () => {
    onError(null);
    try {
      await action();
    } catch (error) {
      onError(error);
    }
  };
  if (!isFinished(build.status)) {
    const waiting = build.status === 'queued' || build.status === 'planned';
    return (
      <ConfirmButton
        label={build.cancel_requested_at ? 'Canceling…' : 'Cancel build'}
        tone="danger"
        disabled={build.cancel_requested_at !== null}
        title={`Cancel build #${build.number}?`}
        description={
          waiting
            ? 'The build has not started: it leaves the queue and ends as canceled.'
            : 'The runner is told to stop the build now; it ends as canceled once the runner reports back. Its output so far is kept.'
        }
        onConfirm={act(async () => {
          await unwrap(api.POST('/api/builds/{id}/cancel', { params: { path: { id: build.id } } }));
          await queryClient.invalidateQueries({ queryKey: ['build', build.id] });
        })}
      />
    );
  }
  return (
    <ConfirmButton
      label="Retry"
      title={`Build this commit again?`}
      description={`A new build of ${shortSha(build.commit_sha)}${build.branch ? ` on ${build.branch}` : ''} starts; build #${build.number} stays as it is.`}
      confirmLabel="Start a new build"
      onConfirm={act(async () => {
        const retried = await unwrap(
          api.POST('/api/builds/{id}/retry', { params: { path: { id: build.id } } }),
        );
        await navigate({ to: '/builds/$buildId', params: { buildId: retried.id } });
      })}
    />
  );
}

/** `/builds/:buildId`: the build's state, its actions and its live log. */
export function BuildPage() {
  const { buildId } = useParams({ from: '/app/builds/$buildId' });
  // One log per build: a retry's page starts from an empty log.
  return <BuildScreen key={buildId} buildId={buildId} />;
}

function BuildScreen({ buildId }: { buildId: string }) {
  const build = useQuery(buildQuery(buildId));
  const project = useQuery({
    ...projectQuery(build.data?.project_id ?? ''),
    enabled: !!build.data,
  });
  const workspaceId = project.data?.workspace_id;
  const runners = useQuery({ ...runnersQuery(workspaceId ?? ''), enabled: !!workspaceId });
  const live = useLiveLog(buildId);
  const queryClient = useQueryClient();
  const [actionError, setActionError] = useState<unknown>(null);

  // The shell's workspace switcher and sections follow the build's workspace.
  useEffect(() => {
    if (workspaceId) rememberWorkspace(workspaceId);
  }, [workspaceId]);

  // The log ended: the build's final status is in the API now.
  useEffect(() => {
    if (live.endStatus) queryClient.invalidateQueries({ queryKey: ['build', buildId] });
  }, [live.endStatus, buildId, queryClient]);

  if (build.isPending) return <Spinner label="Loading the build" />;
  if (build.isError) throw build.error;
  const data = build.data;
  const runner = runners.data?.find((r) => r.id === data.runner_id);

  return (
    <div>
      {project.data && (
        <p className="text-sm text-muted">
          <Link to="/projects/$projectId/builds" params={{ projectId: project.data.id }}>
            {project.data.name}
          </Link>{' '}
          / <span className="text-ink">Build #{data.number}</span>
        </p>
      )}
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            Build #{data.number} <StatusBadge status={data.status} />
          </span>
        }
        actions={<Actions build={data} workspaceId={workspaceId} onError={setActionError} />}
      >
        {data.commit_message ?? 'No commit message'}
      </PageHeader>
      {actionError ? (
        <div className="mb-4" data-testid="action-error">
          <ErrorNotice error={actionError} />
        </div>
      ) : null}
      {data.error && (
        <div
          role="alert"
          className="mb-4 rounded-md border border-danger/40 bg-danger/10 p-3 text-sm"
        >
          {data.error}
        </div>
      )}
      <dl className="mb-4 grid grid-cols-2 gap-3 rounded-lg border border-line bg-panel p-4 sm:grid-cols-4 lg:grid-cols-7">
        <Fact label="Branch">{data.branch ?? data.tag ?? '—'}</Fact>
        <Fact label="Commit">
          <code className="font-mono" title={data.commit_sha ?? undefined}>
            {shortSha(data.commit_sha)}
          </code>
        </Fact>
        <Fact label="Trigger">
          {TRIGGERS[data.trigger]}
          {data.pull_request !== null ? ` #${data.pull_request}` : ''}
        </Fact>
        <Fact label="Runner">
          {data.runner_id ? (runner?.name ?? shortSha(data.runner_id)) : 'Not assigned yet'}
        </Fact>
        <Timings build={data} />
      </dl>
      <BuildTimeline buildId={buildId} finishedAt={data.finished_at} />
      <div className="mb-2 flex flex-wrap items-center gap-3 text-sm text-muted">
        <span data-testid="log-connection" data-state={live.connection}>
          <span
            aria-hidden
            className={`mr-1 inline-block size-2 rounded-full ${
              live.connection === 'live'
                ? 'bg-ok'
                : live.connection === 'reconnecting' || live.connection === 'failed'
                  ? 'bg-warn'
                  : 'bg-muted'
            }`}
          />
          {CONNECTION[live.connection]}
        </span>
        {live.watching !== null && live.connection === 'live' && (
          <span data-testid="log-watching">{live.watching} watching</span>
        )}
        <span data-testid="log-count">
          {live.buffer.lastSeq} line{live.buffer.lastSeq === 1 ? '' : 's'}
        </span>
      </div>
      {live.error ? <ErrorNotice error={live.error} /> : null}
      <LogView buildId={buildId} live={live} finished={isFinished(data.status)} />
    </div>
  );
}
