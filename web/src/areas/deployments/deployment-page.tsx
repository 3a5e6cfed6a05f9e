import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { api, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { ErrorNotice } from '../../components/error-notice';
import { StatusBadge } from '../../components/status-badge';
import { Card, PageHeader, Spinner } from '../../components/ui';
import { duration, shortSha, timeAgo } from '../../lib/format';
import { useCan } from '../../lib/roles';
import { appLayout } from '../../routes/base';
import { projectQuery } from '../../routes/project';
import {
  buildName,
  type DeploymentDetail,
  type DeploymentItem,
  deploymentQuery,
  deploymentsQuery,
  inProgress,
} from './queries';

export const deploymentRoute = createRoute({
  getParentRoute: () => appLayout,
  path: '/deployments/$deploymentId',
  component: DeploymentPage,
});

function DeploymentPage() {
  const { deploymentId } = deploymentRoute.useParams();
  const deployment = useQuery(deploymentQuery(deploymentId));
  if (deployment.error) return <ErrorNotice error={deployment.error} />;
  if (!deployment.data) return <Spinner label="Loading the deployment" />;
  return <Deployment deployment={deployment.data} />;
}

function Deployment({ deployment: d }: { deployment: DeploymentDetail }) {
  const project = useQuery(projectQuery(d.project_id));
  const canDeploy = useCan(project.data?.workspace_id, 'developer');
  return (
    <div className="flex flex-col gap-4">
      <p className="text-sm text-muted">
        {project.data && (
          <>
            <Link to="/projects/$projectId" params={{ projectId: d.project_id }}>
              {project.data.name}
            </Link>{' '}
            /{' '}
            <Link to="/projects/$projectId/deployments" params={{ projectId: d.project_id }}>
              Deployments
            </Link>{' '}
            /{' '}
          </>
        )}
        <span className="text-ink">{shortSha(d.id)}</span>
      </p>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-2">
            {buildName(d.build)} to {d.environment.name}
            <StatusBadge status={d.status} />
            {d.serving && (
              <span className="rounded-full bg-ok/15 px-2 py-0.5 text-xs font-medium text-ok">
                serving
              </span>
            )}
          </span>
        }
      >
        <span aria-live="polite">
          {inProgress(d.status) ? 'In progress: this page updates on its own.' : statusNote(d)}
        </span>
      </PageHeader>
      {canDeploy && <Actions deployment={d} />}
      {d.error && (
        <div role="alert" className="rounded-md border border-danger/40 bg-danger/10 p-3 text-sm">
          <p className="font-medium text-danger">{d.error}</p>
        </div>
      )}
      <Card title="Details">
        <dl className="grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-[max-content_1fr]">
          <Row term="URL">
            {d.url ? (
              <a href={d.url} target="_blank" rel="noreferrer" className="break-all text-accent">
                {d.url}
              </a>
            ) : (
              '—'
            )}
          </Row>
          <Row term="Build">
            <Link to="/builds/$buildId" params={{ buildId: d.build_id }} className="text-accent">
              {buildName(d.build)}
            </Link>
            {d.build.branch && <span className="text-muted"> on {d.build.branch}</span>}
          </Row>
          <Row term="Environment">
            {d.environment.name} ({d.stage})
          </Row>
          <Row term="Strategy">{d.strategy.replaceAll('_', ' ')}</Row>
          <Row term="Platform">{d.platform}</Row>
          <Row term="Created">{timeAgo(d.created_at)}</Row>
          <Row term="Duration">
            {d.started_at
              ? duration(
                  (d.finished_at ? Date.parse(d.finished_at) : Date.now()) -
                    Date.parse(d.started_at),
                )
              : '—'}
          </Row>
          {d.promoted_from_id && (
            <Row term="Promoted from">
              <Link to="/deployments/$deploymentId" params={{ deploymentId: d.promoted_from_id }}>
                {shortSha(d.promoted_from_id)}
              </Link>
            </Row>
          )}
          {d.rolled_back_to_id && (
            <Row term="Rolled back to">
              <Link to="/deployments/$deploymentId" params={{ deploymentId: d.rolled_back_to_id }}>
                {shortSha(d.rolled_back_to_id)}
              </Link>
            </Row>
          )}
        </dl>
      </Card>
      {d.strategy === 'canary' && <CanaryProgress deployment={d} />}
      <Card title="Timeline">
        {d.transitions.length === 0 ? (
          <p className="text-sm text-muted">Queued; nothing has happened yet.</p>
        ) : (
          <ol
            className="flex flex-col gap-2 border-l border-line pl-4 text-sm"
            aria-label="Timeline"
          >
            {d.transitions.map((t) => (
              <li key={`${t.at}-${t.to}`} className="relative">
                <span
                  aria-hidden="true"
                  className="absolute top-1.5 -left-[1.3rem] h-2 w-2 rounded-full bg-accent"
                />
                <span className="flex flex-wrap items-center gap-2">
                  <StatusBadge status={t.to} />
                  <time className="text-muted" dateTime={t.at} title={t.at}>
                    {timeAgo(t.at)}
                  </time>
                </span>
                {t.reason && <p className="mt-0.5 text-muted">{t.reason}</p>}
              </li>
            ))}
          </ol>
        )}
      </Card>
      <HealthChecks results={d.health_results} />
    </div>
  );
}

function statusNote(d: DeploymentDetail): string {
  if (d.serving) return `${d.environment.name} serves this deployment now.`;
  if (d.status === 'live') return `Replaced by a later deployment of ${d.environment.name}.`;
  return '';
}

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-muted">{term}</dt>
      <dd className="min-w-0">{children}</dd>
    </>
  );
}

function CanaryProgress({ deployment: d }: { deployment: DeploymentDetail }) {
  const percent = d.canary_percent ?? (d.status === 'live' ? 100 : 0);
  return (
    <Card title="Canary">
      <div className="flex flex-col gap-2 text-sm">
        <div
          role="progressbar"
          aria-label="Share of production traffic"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          className="h-2 w-full overflow-hidden rounded-full bg-line"
        >
          <div className="h-full bg-accent" style={{ width: `${percent}%` }} />
        </div>
        <p>
          Serving {percent}% of production traffic
          {d.resume_at && d.status === 'verifying' && (
            <span className="text-muted">
              ; next step {timeAgo(d.resume_at)}, after its health check
            </span>
          )}
          .
        </p>
      </div>
    </Card>
  );
}

interface HealthAttempt {
  at?: string;
  ok?: boolean;
  status?: number | null;
  duration_ms?: number;
  reason?: string;
}
interface HealthResult {
  ok?: boolean;
  url?: string;
  attempts?: HealthAttempt[];
}

function HealthChecks({ results }: { results: unknown[] }) {
  const checks = results.filter(
    (r): r is HealthResult => typeof r === 'object' && r !== null && 'attempts' in r,
  );
  return (
    <Card title="Health checks">
      {checks.length === 0 ? (
        <p className="text-sm text-muted">No health check has run for this deployment.</p>
      ) : (
        <ul className="flex flex-col gap-3 text-sm">
          {checks.map((check, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: results are only ever appended
            <li key={i}>
              <p className="flex flex-wrap items-center gap-2">
                <StatusBadge status={check.ok ? 'success' : 'failed'} />
                <code className="break-all">{check.url}</code>
              </p>
              <ul className="mt-1 ml-4 list-disc text-muted">
                {(check.attempts ?? []).map((a, j) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: attempts are only ever appended
                  <li key={j}>
                    {a.ok ? 'passed' : 'failed'}: status {a.status ?? 'none'} in{' '}
                    {a.duration_ms ?? '?'} ms{a.reason ? ` — ${a.reason}` : ''}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

/** Promote, roll back, redeploy and cancel: each says exactly what it will do before it does. */
function Actions({ deployment: d }: { deployment: DeploymentDetail }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const production = d.environment.kind === 'production';
  // What a rollback from here goes back to: the newest other live deployment of the environment.
  const earlier = useQuery({
    ...deploymentsQuery(d.project_id, { environment_id: d.environment.id, status: 'live' }),
    enabled: production && d.serving,
  });
  const previous = earlier.data?.deployments.find((other) => other.id !== d.id);
  const servedBefore = d.transitions.some((t) => t.to === 'live');

  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['deployment'] }),
      queryClient.invalidateQueries({ queryKey: ['deployments', d.project_id] }),
    ]);
  const open = (id: string) =>
    navigate({ to: '/deployments/$deploymentId', params: { deploymentId: id } });

  const action = useMutation({
    mutationFn: (run: () => Promise<{ id: string }>) => run(),
    onSuccess: async (result) => {
      await refresh();
      if (result.id !== d.id) await open(result.id);
    },
  });
  const run = (call: () => Promise<{ id: string }>) => action.mutateAsync(call).catch(() => {});

  const rollBackTo = (target: Pick<DeploymentItem, 'id'>) => () =>
    unwrap(
      api.POST('/api/environments/{id}/rollback', {
        params: { path: { id: d.environment.id } },
        body: { deployment_id: target.id },
      }),
    );

  const name = buildName(d.build);
  const env = d.environment.name;
  const buttons: ReactNode[] = [];
  if (d.stage === 'preview' && d.status === 'live') {
    buttons.push(
      <ConfirmButton
        key="promote"
        tone="primary"
        label="Promote to production"
        title="Promote to production?"
        description={`production will serve ${name}: the same files as this preview, not rebuilt. The production deployment live now stops serving once it is live.`}
        confirmLabel="Promote"
        onConfirm={() =>
          run(() =>
            unwrap(api.POST('/api/deployments/{id}/promote', { params: { path: { id: d.id } } })),
          )
        }
      />,
    );
  }
  if (production && d.serving && previous) {
    const target = buildName(previous.build);
    buttons.push(
      <ConfirmButton
        key="rollback"
        tone="danger"
        label="Roll back"
        title={`Roll ${env} back?`}
        description={`${env} will serve ${target} again, at once; ${name} stops serving. Nothing is rebuilt or uploaded.`}
        confirmLabel={`Roll back to ${target}`}
        onConfirm={() => run(rollBackTo(previous))}
      />,
    );
  }
  if (
    production &&
    !d.serving &&
    servedBefore &&
    (d.status === 'live' || d.status === 'rolled_back')
  ) {
    buttons.push(
      <ConfirmButton
        key="serve-again"
        tone="danger"
        label="Roll back to this deployment"
        title={`Serve ${name} again?`}
        description={`${env} will serve ${name} again, at once, instead of what it serves now. Nothing is rebuilt or uploaded.`}
        confirmLabel="Roll back"
        onConfirm={() => run(rollBackTo(d))}
      />,
    );
  }
  if (!inProgress(d.status) && d.status !== 'retired') {
    buttons.push(
      <ConfirmButton
        key="redeploy"
        label="Redeploy"
        title={`Redeploy ${name}?`}
        description={`A new deployment of ${name} to ${env} starts with the environment’s current settings and variables. ${env} keeps serving what it serves now until the new one is live.`}
        confirmLabel="Redeploy"
        onConfirm={() =>
          run(() =>
            unwrap(
              api.POST('/api/builds/{id}/deploy', {
                params: { path: { id: d.build_id } },
                body: { stage: d.stage },
              }),
            ),
          )
        }
      />,
    );
  }
  if (d.status === 'queued') {
    buttons.push(
      <ConfirmButton
        key="cancel"
        tone="danger"
        label="Cancel"
        title="Cancel this deployment?"
        description={`The queued deployment of ${name} to ${env} will not run; ${env} keeps serving what it serves now.`}
        confirmLabel="Cancel deployment"
        onConfirm={() =>
          run(() =>
            unwrap(api.POST('/api/deployments/{id}/cancel', { params: { path: { id: d.id } } })),
          )
        }
      />,
    );
  }
  if (buttons.length === 0 && !action.error) return null;
  return (
    <div className="flex flex-col gap-2">
      <ErrorNotice error={action.error} />
      <div className="flex flex-wrap gap-2">{buttons}</div>
    </div>
  );
}
