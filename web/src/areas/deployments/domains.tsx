import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createRoute } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api, type Schemas, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { ErrorNotice } from '../../components/error-notice';
import { StatusBadge } from '../../components/status-badge';
import { Button, Card, EmptyState, Field, PageHeader, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { useCan } from '../../lib/roles';
import { projectRoute } from '../../routes/project';
import { domainsQuery } from './queries';

type Domain = Schemas['Domain'];

export const domainsRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: '/domains',
  component: Domains,
});

function Domains() {
  const project = projectRoute.useLoaderData();
  const domains = useQuery(domainsQuery(project.id));
  const canEdit = useCan(project.workspace_id, 'admin');
  return (
    <div className="flex flex-col gap-4">
      <PageHeader title="Custom domains">
        A verified domain serves this project’s production deployment. Prove you control it with a
        DNS TXT record first.
      </PageHeader>
      {canEdit && <AddDomain projectId={project.id} />}
      <ErrorNotice error={domains.error} />
      {domains.isPending && <Spinner label="Loading domains" />}
      {domains.data?.domains.length === 0 && (
        <EmptyState title="No custom domains">
          {canEdit
            ? 'Add one above, e.g. www.example.com, then add the TXT record it shows.'
            : 'An admin of the workspace can add one.'}
        </EmptyState>
      )}
      {domains.data?.domains.map((domain) => (
        <DomainCard key={domain.id} projectId={project.id} domain={domain} canEdit={canEdit} />
      ))}
    </div>
  );
}

function AddDomain({ projectId }: { projectId: string }) {
  const queryClient = useQueryClient();
  const add = useMutation({
    mutationFn: (hostname: string) =>
      unwrap(
        api.POST('/api/projects/{id}/domains', {
          params: { path: { id: projectId } },
          body: { hostname },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['domains', projectId] }),
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const hostname = String(new FormData(form).get('hostname') ?? '');
    add.mutate(hostname, { onSuccess: () => form.reset() });
  }
  const fieldError = (add.error as { details?: { fields?: { message: string }[] } } | null)?.details
    ?.fields?.[0]?.message;
  return (
    <Card title="Add a domain">
      <form onSubmit={submit} className="flex flex-col gap-3">
        <ErrorNotice error={add.error} />
        <div className="flex flex-wrap items-end gap-3">
          <div className="min-w-[16rem] flex-1">
            <Field
              label="Domain"
              name="hostname"
              required
              placeholder="www.example.com"
              autoComplete="off"
              {...(fieldError ? { error: fieldError } : {})}
            />
          </div>
          <Button type="submit" tone="primary" disabled={add.isPending}>
            Add domain
          </Button>
        </div>
      </form>
    </Card>
  );
}

function CopyValue({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="flex min-w-0 flex-wrap items-center gap-2">
      <code className="min-w-0 break-all rounded bg-canvas px-2 py-1 font-mono text-xs">
        {value}
      </code>
      <Button
        className="px-2 py-1 text-xs"
        aria-label={`Copy ${label}`}
        onClick={() =>
          navigator.clipboard
            ?.writeText(value)
            .then(() => setCopied(true))
            .catch(() => {})
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </Button>
    </div>
  );
}

function DomainCard({
  projectId,
  domain,
  canEdit,
}: {
  projectId: string;
  domain: Domain;
  canEdit: boolean;
}) {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['domains', projectId] });
  const verify = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/projects/{id}/domains/{domain_id}/verify', {
          params: { path: { id: projectId, domain_id: domain.id } },
        }),
      ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE('/api/projects/{id}/domains/{domain_id}', {
          params: { path: { id: projectId, domain_id: domain.id } },
        }),
      ),
    onSuccess: refresh,
  });
  const pending = domain.status === 'pending';
  const result = verify.data;
  return (
    <Card
      title={
        <span className="flex flex-wrap items-center gap-2">
          <span className="break-all">{domain.hostname}</span>
          <StatusBadge status={pending ? 'pending verification' : 'verified'} />
        </span>
      }
      actions={
        canEdit && (
          <div className="flex flex-wrap gap-2">
            {pending && (
              <Button onClick={() => verify.mutate()} disabled={verify.isPending}>
                {verify.isPending ? 'Checking…' : 'Verify'}
              </Button>
            )}
            <ConfirmButton
              label="Remove"
              tone="danger"
              title={`Remove ${domain.hostname}?`}
              description={
                pending
                  ? `${domain.hostname} is removed from this project; its TXT record can be deleted.`
                  : `${domain.hostname} stops serving this project’s production at once: visitors get “not found” until it is added and verified again.`
              }
              onConfirm={() => remove.mutateAsync().catch(() => {})}
            />
          </div>
        )
      }
    >
      <div className="flex flex-col gap-3 text-sm">
        <ErrorNotice error={verify.error ?? remove.error} />
        {pending ? (
          <>
            <p>
              To verify, add this record at your DNS provider, then choose <em>Verify</em>. DNS
              changes can take a few minutes to be seen.
            </p>
            <dl
              className="grid grid-cols-1 gap-x-4 gap-y-2 sm:grid-cols-[max-content_1fr]"
              aria-label={`Verification record for ${domain.hostname}`}
            >
              <dt className="text-muted">Type</dt>
              <dd>{domain.verification.type}</dd>
              <dt className="text-muted">Name</dt>
              <dd>
                <CopyValue label="record name" value={domain.verification.name} />
              </dd>
              <dt className="text-muted">Value</dt>
              <dd>
                <CopyValue label="record value" value={domain.verification.value} />
              </dd>
            </dl>
            {result && !result.verified && (
              <p role="status" className="text-warn">
                Not verified yet:{' '}
                {result.found.length
                  ? `${domain.verification.name} holds ${result.found.map((f) => `“${f}”`).join(', ')}, not the value above.`
                  : `no TXT record found at ${domain.verification.name}.`}
              </p>
            )}
          </>
        ) : (
          <p>
            Verified {timeAgo(domain.verified_at)}. Point {domain.hostname} at the platform (a
            CNAME, or A/AAAA records) and it serves production.
          </p>
        )}
      </div>
    </Card>
  );
}
