import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createRoute } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { CopyButton } from '../../components/copy-button';
import { ErrorNotice } from '../../components/error-notice';
import { SelectField } from '../../components/select-field';
import { StatusBadge } from '../../components/status-badge';
import { Button, Card, EmptyState, Field, PageHeader, Spinner } from '../../components/ui';
import { useCan } from '../../lib/roles';
import { projectRoute } from '../../routes/project';
import { DeliveryLog } from './delivery-log';
import {
  EVENTS,
  KINDS,
  type NotificationTarget,
  type SubscribableEvent,
  targetsQuery,
} from './queries';

export const notificationsRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: '/notifications',
  component: Notifications,
});

function Notifications() {
  const project = projectRoute.useLoaderData();
  const isAdmin = useCan(project.workspace_id, 'admin');
  const targets = useQuery({ ...targetsQuery(project.id), enabled: isAdmin });
  return (
    <div className="flex flex-col gap-4">
      <PageHeader title="Notifications">
        Tell a webhook, Slack or Discord when a build fails, a deployment goes live or is rolled
        back, or a runner goes offline.
      </PageHeader>
      {!isAdmin ? (
        <EmptyState title="Notifications are managed by admins">
          An admin of the workspace can add targets here.
        </EmptyState>
      ) : (
        <>
          <AddTarget projectId={project.id} />
          <ErrorNotice error={targets.error} />
          {targets.isPending && <Spinner label="Loading notification targets" />}
          {targets.data?.targets.length === 0 && (
            <EmptyState title="No notification targets">
              Add one above: a Slack or Discord incoming-webhook URL, or your own endpoint.
            </EmptyState>
          )}
          {targets.data?.targets.map((target) => (
            <TargetCard key={target.id} projectId={project.id} target={target} />
          ))}
        </>
      )}
    </div>
  );
}

function AddTarget({ projectId }: { projectId: string }) {
  const queryClient = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: (body: {
      kind: NotificationTarget['kind'];
      name: string;
      url: string;
      events: SubscribableEvent[];
    }) =>
      unwrap(
        api.POST('/api/projects/{id}/notification-targets', {
          params: { path: { id: projectId } },
          body,
        }),
      ),
    onSuccess: (created) => {
      setSecret(created.secret);
      return queryClient.invalidateQueries({ queryKey: ['notification-targets', projectId] });
    },
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    add.mutate(
      {
        kind: String(data.get('kind')) as NotificationTarget['kind'],
        name: String(data.get('name') ?? ''),
        url: String(data.get('url') ?? ''),
        events: data.getAll('events').map(String) as SubscribableEvent[],
      },
      { onSuccess: () => form.reset() },
    );
  }
  const fieldError = (add.error as { details?: { fields?: { message: string }[] } } | null)?.details
    ?.fields?.[0]?.message;
  return (
    <Card title="Add a target">
      <form onSubmit={submit} className="flex flex-col gap-3">
        <ErrorNotice error={add.error} />
        <div className="grid gap-3 sm:grid-cols-[12rem_1fr]">
          <SelectField label="Kind" name="kind" defaultValue="webhook">
            {KINDS.map((kind) => (
              <option key={kind.value} value={kind.value}>
                {kind.label}
              </option>
            ))}
          </SelectField>
          <Field label="Name" name="name" required maxLength={100} placeholder="#deploys" />
        </div>
        <Field
          label="URL"
          name="url"
          type="url"
          required
          placeholder="https://hooks.slack.com/services/…"
          autoComplete="off"
          hint="Stored encrypted and never shown again in full."
          {...(fieldError ? { error: fieldError } : {})}
        />
        <fieldset className="flex flex-wrap gap-4 text-sm">
          <legend className="mb-1 font-medium">Events</legend>
          {EVENTS.map((event) => (
            <label key={event.value} className="flex items-center gap-2">
              <input type="checkbox" name="events" value={event.value} defaultChecked />
              {event.label}
            </label>
          ))}
        </fieldset>
        <div>
          <Button type="submit" tone="primary" disabled={add.isPending}>
            Add target
          </Button>
        </div>
      </form>
      {secret && (
        <div role="status" className="mt-4 flex flex-col gap-2 rounded-md border border-line p-3">
          <p className="text-sm font-medium">
            Signing secret: copy it now, it is not shown again. Verify each delivery’s
            Sparki-Signature header with it.
          </p>
          <div className="flex flex-wrap items-center gap-2">
            <code
              className="break-all rounded bg-canvas px-2 py-1 font-mono text-xs"
              data-testid="signing-secret"
            >
              {secret}
            </code>
            <CopyButton text={secret} label="Copy secret" />
            <Button onClick={() => setSecret(null)}>Done</Button>
          </div>
        </div>
      )}
    </Card>
  );
}

function TargetCard({ projectId, target }: { projectId: string; target: NotificationTarget }) {
  const queryClient = useQueryClient();
  const [showLog, setShowLog] = useState(false);
  const path = { id: projectId, target_id: target.id };
  const test = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/projects/{id}/notification-targets/{target_id}/test', { params: { path } }),
      ),
    onSuccess: () => {
      setShowLog(true);
      return queryClient.invalidateQueries({
        queryKey: ['notification-deliveries', projectId, target.id],
      });
    },
  });
  const remove = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE('/api/projects/{id}/notification-targets/{target_id}', { params: { path } }),
      ),
    onSuccess: () =>
      queryClient.invalidateQueries({ queryKey: ['notification-targets', projectId] }),
  });
  const kind = KINDS.find((k) => k.value === target.kind)?.label ?? target.kind;
  return (
    <Card
      title={
        <span className="flex flex-wrap items-center gap-2">
          <span className="break-all">{target.name}</span>
          <span className="text-xs font-normal text-muted">{kind}</span>
          {!target.enabled && <StatusBadge status="paused" />}
        </span>
      }
      actions={
        <div className="flex flex-wrap gap-2">
          <Button onClick={() => test.mutate()} disabled={test.isPending}>
            Send test
          </Button>
          <Button onClick={() => setShowLog((shown) => !shown)} aria-expanded={showLog}>
            {showLog ? 'Hide deliveries' : 'Deliveries'}
          </Button>
          <ConfirmButton
            label="Delete"
            tone="danger"
            title={`Delete ${target.name}?`}
            description="Nothing more is sent to it, and its delivery log is deleted with it."
            onConfirm={() => remove.mutateAsync().catch(() => {})}
          />
        </div>
      }
    >
      <div className="flex flex-col gap-3 text-sm">
        <ErrorNotice error={test.error ?? remove.error} />
        <p className="break-all font-mono text-xs text-muted">{target.url_hint}</p>
        <p>
          {target.events
            .map((event) => EVENTS.find((e) => e.value === event)?.label ?? event)
            .join(' · ')}
        </p>
        {showLog && <DeliveryLog projectId={projectId} targetId={target.id} />}
      </div>
    </Card>
  );
}
