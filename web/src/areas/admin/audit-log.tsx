import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { api, type Schemas, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { SelectField } from '../../components/select-field';
import { Button, Card, EmptyState, Field, PageHeader, Spinner } from '../../components/ui';
import { useCan } from '../../lib/roles';
import { type AuditSearch, auditQuery, RESULTS, type Result, text } from './audit-search';
import { membersQuery } from './queries';
import { auditRoute } from './routes';

const RESULT_TONE: Record<Result, string> = {
  success: 'bg-ok/15 text-ok',
  failure: 'bg-danger/15 text-danger',
  denied: 'bg-warn/15 text-warn',
};
const PAGE = 50;
/** The API's ceiling for one CSV export. */
const CSV_MAX = 10_000;

// Actions the platform records, offered as suggestions; any other text filters too.
const ACTIONS = [
  'auth.login',
  'build.canceled',
  'build.retried',
  'build.triggered',
  'deployment.promoted',
  'deployment.rolled_back',
  'env_var.set',
  'env_var.deleted',
  'member.invited',
  'member.invite_withdrawn',
  'member.joined',
  'member.left',
  'member.removed',
  'member.role_changed',
  'project.created',
  'project.deleted',
  'project.updated',
  'runner.registered',
  'runner.disabled',
  'runner.deleted',
  'runner_registration_token.created',
  'runner_registration_token.revoked',
  'workspace.ownership_transferred',
  'workspace.updated',
];

function csvHref(workspaceId: string, search: AuditSearch): string {
  const params = new URLSearchParams({ format: 'csv', limit: String(CSV_MAX) });
  for (const [name, value] of Object.entries(auditQuery(search))) {
    if (value) params.set(name, value);
  }
  return `/api/workspaces/${workspaceId}/audit-log?${params}`;
}

export function AuditLog() {
  const { workspaceId } = auditRoute.useParams();
  const isAdmin = useCan(workspaceId, 'admin');
  return (
    <div className="flex flex-col gap-6 [&>:first-child]:mb-0">
      <PageHeader title="Audit log">
        Who did what in this workspace, newest first. Entries cannot be changed or deleted.
      </PageHeader>
      {isAdmin ? (
        <AuditEntries workspaceId={workspaceId} />
      ) : (
        <EmptyState title="The audit log is for admins">
          Ask an admin or the owner of this workspace for access.
        </EmptyState>
      )}
    </div>
  );
}

function AuditEntries({ workspaceId }: { workspaceId: string }) {
  const search = auditRoute.useSearch();
  const navigate = useNavigate({ from: auditRoute.fullPath });
  const members = useQuery(membersQuery(workspaceId));
  const entries = useInfiniteQuery({
    queryKey: ['workspace', workspaceId, 'audit', search],
    initialPageParam: undefined as string | undefined,
    // JSON unless `format=csv` is asked for: the CSV export is a plain link below.
    queryFn: ({ pageParam }): Promise<Schemas['AuditPage']> =>
      unwrap(
        api.GET('/api/workspaces/{id}/audit-log', {
          params: {
            path: { id: workspaceId },
            query: { ...auditQuery(search), cursor: pageParam, limit: PAGE },
          },
        }),
      ) as Promise<Schemas['AuditPage']>,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  const rows = entries.data?.pages.flatMap((page) => page.entries) ?? [];
  const filtered = Object.values(search).some(Boolean);

  function apply(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const value = (name: string) => text(form.get(name));
    void navigate({
      search: {
        action: value('action'),
        actor_id: value('actor_id'),
        result: RESULTS.find((result) => result === form.get('result')),
        from: value('from'),
        to: value('to'),
      },
    });
  }

  return (
    <>
      <Card title="Filters">
        <form
          key={JSON.stringify(search)}
          className="flex flex-wrap items-end gap-3 text-sm"
          onSubmit={apply}
          aria-label="Audit log filters"
        >
          <SelectField label="Actor" name="actor_id" defaultValue={search.actor_id ?? ''}>
            <option value="">Anyone</option>
            {members.data?.map((member) => (
              <option key={member.user_id} value={member.user_id}>
                {member.email}
              </option>
            ))}
          </SelectField>
          <Field
            label="Action"
            name="action"
            list="audit-actions"
            defaultValue={search.action ?? ''}
            placeholder="e.g. member.role_changed"
          />
          <datalist id="audit-actions">
            {ACTIONS.map((action) => (
              <option key={action} value={action} />
            ))}
          </datalist>
          <SelectField label="Result" name="result" defaultValue={search.result ?? ''}>
            <option value="">Any</option>
            {RESULTS.map((result) => (
              <option key={result} value={result}>
                {result}
              </option>
            ))}
          </SelectField>
          <Field label="From" name="from" type="date" defaultValue={search.from ?? ''} />
          <Field label="To" name="to" type="date" defaultValue={search.to ?? ''} />
          <Button tone="primary" type="submit">
            Apply filters
          </Button>
          {filtered && <Button onClick={() => void navigate({ search: {} })}>Clear filters</Button>}
          <a
            href={csvHref(workspaceId, search)}
            download
            className="ml-auto inline-flex items-center rounded-md border border-line bg-panel px-3 py-2 font-medium hover:bg-canvas"
          >
            Export CSV
          </a>
        </form>
        <p className="mt-2 text-xs text-muted">
          The export holds the entries matching these filters, up to {CSV_MAX.toLocaleString()}{' '}
          rows.
        </p>
      </Card>
      <ErrorNotice error={entries.error} />
      {entries.isPending ? (
        <Spinner />
      ) : rows.length === 0 ? (
        <EmptyState title={filtered ? 'No entries match these filters' : 'No entries yet'}>
          {filtered
            ? 'Widen the date range or clear the filters.'
            : 'Changes to members, runners, projects and deployments are recorded here.'}
        </EmptyState>
      ) : (
        <div className="relative overflow-x-auto rounded-lg border border-line bg-panel">
          <table className="w-full min-w-[48rem] text-left text-sm">
            <thead className="text-xs text-muted">
              <tr>
                <th className="px-3 py-2 font-medium">When</th>
                <th className="px-3 py-2 font-medium">Actor</th>
                <th className="px-3 py-2 font-medium">Action</th>
                <th className="px-3 py-2 font-medium">Target</th>
                <th className="px-3 py-2 font-medium">Result</th>
                <th className="px-3 py-2 font-medium">Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((entry) => (
                <tr key={entry.id} className="border-t border-line align-top">
                  <td className="px-3 py-2 whitespace-nowrap">
                    <time dateTime={entry.created_at}>
                      {new Date(entry.created_at).toLocaleString()}
                    </time>
                  </td>
                  <td className="px-3 py-2">
                    {entry.actor_email ?? <span className="text-muted">system</span>}
                    {entry.actor_role && (
                      <span className="block text-xs text-muted">{entry.actor_role}</span>
                    )}
                  </td>
                  <td className="px-3 py-2 font-mono text-xs">{entry.action}</td>
                  <td className="px-3 py-2 text-xs">
                    {entry.target_type ?? '—'}
                    {entry.target_id && (
                      <span className="block font-mono text-muted">{entry.target_id}</span>
                    )}
                  </td>
                  <td className="px-3 py-2">
                    <span
                      className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ${RESULT_TONE[entry.result]}`}
                    >
                      {entry.result}
                    </span>
                  </td>
                  <td className="max-w-[20rem] px-3 py-2 font-mono text-xs break-all text-muted">
                    {Object.keys(entry.metadata).length > 0 ? JSON.stringify(entry.metadata) : ''}
                    {entry.ip && <span className="block">IP {entry.ip}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {entries.hasNextPage && (
        <Button
          className="self-center"
          disabled={entries.isFetchingNextPage}
          onClick={() => void entries.fetchNextPage()}
        >
          {entries.isFetchingNextPage ? 'Loading…' : 'Load older entries'}
        </Button>
      )}
    </>
  );
}
