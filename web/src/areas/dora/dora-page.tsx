import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Card, EmptyState, PageHeader, Spinner } from '../../components/ui';
import { BarChart } from './chart';
import { DrillDown } from './drill-down';
import { type DoraReport, type DoraSearch, rate, span, WINDOWS } from './search';

const projectApi = getRouteApi('/app/projects/$projectId/dora');
const workspaceApi = getRouteApi('/app/w/$workspaceId/dora');

export function ProjectDora() {
  const { projectId } = projectApi.useParams();
  const search = projectApi.useSearch();
  const report = useQuery({
    queryKey: ['dora', 'project', projectId, search],
    queryFn: () =>
      unwrap(
        api.GET('/api/projects/{id}/dora', { params: { path: { id: projectId }, query: search } }),
      ),
  });
  return <DoraView title="DORA metrics" search={search} report={report} />;
}

export function WorkspaceDora() {
  const { workspaceId } = workspaceApi.useParams();
  const search = workspaceApi.useSearch();
  const report = useQuery({
    queryKey: ['dora', 'workspace', workspaceId, search],
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{id}/dora', {
          params: { path: { id: workspaceId }, query: search },
        }),
      ),
  });
  return <DoraView title="DORA metrics of every project" search={search} report={report} />;
}

type Metric = { key: string; name: string; ids: string[] };

function DoraView({
  title,
  search,
  report,
}: {
  title: string;
  search: DoraSearch;
  report: { data?: DoraReport | undefined; error: unknown; isPending: boolean };
}) {
  const [selected, setSelected] = useState<Metric | null>(null);
  const data = report.data;
  return (
    <div className="flex flex-col gap-4">
      <PageHeader
        title={title}
        actions={
          <nav aria-label="Window" className="flex gap-1 text-sm">
            {WINDOWS.map((name) => (
              <Link
                key={name}
                to="."
                search={{ window: name }}
                className="rounded-md border border-line px-2 py-1"
                activeProps={{ className: 'border-accent! font-semibold', 'aria-current': 'page' }}
                activeOptions={{ includeSearch: true }}
              >
                Last {name.replace('d', ' days')}
              </Link>
            ))}
          </nav>
        }
      >
        How often production changes, how fast, how often it fails and how fast it recovers, from
        the production deployments in the window.
        {data && ` ${data.window.from.slice(0, 10)} to ${data.window.to.slice(0, 10)}.`}
      </PageHeader>
      <ErrorNotice error={report.error} />
      {report.isPending && <Spinner label="Computing DORA metrics" />}
      {data && data.deployment_frequency.deployments === 0 && !search.from && (
        <EmptyState title="No production deployments in this window">
          A successful build of the production branch deploys; try a longer window.
        </EmptyState>
      )}
      {data && <Metrics report={data} onSelect={setSelected} />}
      {data && <DrillDown report={data} selected={selected} onClear={() => setSelected(null)} />}
    </div>
  );
}

function Metrics({ report, onSelect }: { report: DoraReport; onSelect: (m: Metric) => void }) {
  const f = report.deployment_frequency;
  const lead = report.change_lead_time;
  const cfr = report.change_fail_rate;
  const recovery = report.failed_deployment_recovery_time;
  const rework = report.deployment_rework_rate;
  const series = (pick: (point: DoraReport['series'][number]) => number | null) =>
    report.series.map((point) => ({ from: point.from, value: pick(point) }));
  return (
    <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
      <MetricCard
        metric={{ key: 'frequency', name: 'Deployment frequency', ids: f.deployment_ids }}
        value={`${f.per_day.toFixed(2)} / day`}
        from={`${f.deployments} deployments`}
        band={f.band}
        onSelect={onSelect}
        chart={series((p) => p.deployments)}
        format={(v) => `${v ?? 0} deployments`}
      />
      <MetricCard
        metric={{ key: 'lead', name: 'Change lead time', ids: lead.deployment_ids }}
        value={span(lead.median_seconds)}
        from={`median of ${lead.deployment_ids.length} changes`}
        band={lead.band}
        onSelect={onSelect}
        chart={series((p) => p.lead_time_seconds)}
        format={span}
      />
      <MetricCard
        metric={{ key: 'cfr', name: 'Change fail rate', ids: cfr.deployment_ids }}
        value={rate(cfr.rate)}
        from={`${cfr.failed} of ${cfr.deployments} failed`}
        band={cfr.band}
        onSelect={onSelect}
        chart={series((p) => p.change_fail_rate)}
        format={rate}
      />
      <MetricCard
        metric={{
          key: 'recovery',
          name: 'Failed deployment recovery time',
          ids: recovery.deployment_ids,
        }}
        value={span(recovery.median_seconds)}
        from={`median of ${recovery.deployment_ids.length} ${recovery.deployment_ids.length === 1 ? 'recovery' : 'recoveries'}${recovery.unrecovered_ids.length ? `, ${recovery.unrecovered_ids.length} open` : ''}`}
        band={recovery.band}
        onSelect={onSelect}
        chart={series((p) => p.recovery_seconds)}
        format={span}
      />
      <MetricCard
        metric={{ key: 'rework', name: 'Deployment rework rate', ids: rework.deployment_ids }}
        value={rate(rework.rate)}
        from={`${rework.rework} of ${rework.deployments} unplanned`}
        band={null}
        onSelect={onSelect}
        chart={series((p) => p.rework_rate)}
        format={rate}
      />
    </div>
  );
}

const BAND_TONE: Record<string, string> = {
  elite: 'bg-ok/15 text-ok',
  high: 'bg-accent/15 text-accent',
  medium: 'bg-warn/15 text-warn',
  low: 'bg-danger/15 text-danger',
};

function MetricCard(props: {
  metric: Metric;
  value: string;
  from: string;
  band: string | null;
  chart: { from: string; value: number | null }[];
  format: (value: number | null) => string;
  onSelect: (metric: Metric) => void;
}) {
  const { metric, band } = props;
  return (
    <section aria-label={metric.name}>
      <Card
        title={metric.name}
        actions={
          <span
            className={`rounded-full px-2 py-0.5 text-xs font-medium ${band ? BAND_TONE[band] : 'bg-muted/15 text-muted'}`}
            title="DORA performance level (docs/dora.md)"
          >
            {band ?? 'no band'}
          </span>
        }
      >
        <p className="text-2xl font-semibold" data-testid="value">
          {props.value}
        </p>
        <button
          type="button"
          className="text-sm text-accent underline"
          onClick={() => props.onSelect(metric)}
        >
          {props.from}
        </button>
        <BarChart label={metric.name} points={props.chart} format={props.format} />
      </Card>
    </section>
  );
}
