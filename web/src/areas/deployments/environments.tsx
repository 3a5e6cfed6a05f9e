import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createRoute } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import {
  type CurrentVariable,
  type DotenvPlan,
  parseDotenv,
  planDotenv,
  serializeDotenv,
} from '../../../../core/dotenv';
import { api, type Schemas, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Card, EmptyState, Field, PageHeader, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { useCan } from '../../lib/roles';
import { projectRoute } from '../../routes/project';
import { DeploySettingsCard } from './deploy-settings';
import { environmentsQuery } from './queries';

type Environment = Schemas['Environment'];

export const environmentsRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: '/environments',
  component: Environments,
});

function Environments() {
  const project = projectRoute.useLoaderData();
  const environments = useQuery(environmentsQuery(project.id));
  const canEdit = useCan(project.workspace_id, 'developer');
  const canAdmin = useCan(project.workspace_id, 'admin');
  return (
    <div className="flex flex-col gap-6">
      <PageHeader title="Environments">
        Variables reach builds and deployments of each environment. Secrets are write-only: they are
        stored encrypted, masked in logs and never shown again.
      </PageHeader>
      <ErrorNotice error={environments.error} />
      {environments.isPending && <Spinner label="Loading environments" />}
      {environments.data?.environments.length === 0 && (
        <EmptyState title="No environments">
          Projects get a production and a preview environment when they are created.
        </EmptyState>
      )}
      {environments.data?.environments.map((env) => (
        <section key={env.id} aria-labelledby={`env-${env.id}`} className="flex flex-col gap-3">
          <h2 id={`env-${env.id}`} className="text-xl font-semibold">
            {env.name} <span className="text-sm font-normal text-muted">({env.kind})</span>
          </h2>
          <Variables projectId={project.id} environment={env} canEdit={canEdit} />
          <DeploySettingsCard environmentId={env.id} canEdit={canAdmin} />
        </section>
      ))}
    </div>
  );
}

async function applyPlan(projectId: string, environment: string, plan: DotenvPlan) {
  for (const change of plan.set) {
    await unwrap(
      api.PUT('/api/projects/{id}/environments/{environment}/variables/{name}', {
        params: { path: { id: projectId, environment, name: change.name } },
        body: { value: change.value, secret: change.secret },
      }),
    );
  }
  for (const name of plan.remove) {
    await unwrap(
      api.DELETE('/api/projects/{id}/environments/{environment}/variables/{name}', {
        params: { path: { id: projectId, environment, name } },
      }),
    );
  }
}

function describePlan(plan: DotenvPlan): string {
  const parts: string[] = [];
  const secrets = plan.set.filter((c) => c.secret).map((c) => c.name);
  const plain = plan.set.filter((c) => !c.secret).map((c) => c.name);
  if (plain.length) parts.push(`set ${plain.join(', ')}`);
  if (secrets.length) parts.push(`set the secrets ${secrets.join(', ')} (write-only)`);
  if (plan.remove.length) parts.push(`delete ${plan.remove.join(', ')}`);
  return parts.length ? `This will ${parts.join('; ')}.` : 'Nothing changes.';
}

function Variables({
  projectId,
  environment: env,
  canEdit,
}: {
  projectId: string;
  environment: Environment;
  canEdit: boolean;
}) {
  const queryClient = useQueryClient();
  const [editor, setEditor] = useState<'edit' | 'paste' | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['environments', projectId] });
  const remove = useMutation({
    mutationFn: (name: string) =>
      unwrap(
        api.DELETE('/api/projects/{id}/environments/{environment}/variables/{name}', {
          params: { path: { id: projectId, environment: env.name, name } },
        }),
      ),
    onSettled: refresh,
  });
  return (
    <Card
      title="Variables"
      actions={
        canEdit && (
          <div className="flex flex-wrap gap-2">
            <Button onClick={() => setEditor(editor === 'edit' ? null : 'edit')}>
              Edit as .env
            </Button>
            <Button onClick={() => setEditor(editor === 'paste' ? null : 'paste')}>
              Paste .env
            </Button>
          </div>
        )
      }
    >
      <div className="flex flex-col gap-3">
        {editor && (
          <DotenvEditor
            key={editor}
            mode={editor}
            projectId={projectId}
            environment={env}
            onDone={async () => {
              await refresh();
              setEditor(null);
            }}
          />
        )}
        <ErrorNotice error={remove.error} />
        {env.variables.length === 0 ? (
          <EmptyState title={`No variables in ${env.name}`}>
            {canEdit ? 'Add one below, or paste a .env file.' : 'A developer can add them.'}
          </EmptyState>
        ) : (
          <div className="overflow-x-auto">
            <table
              className="w-full min-w-[32rem] text-left text-sm"
              aria-label={`${env.name} variables`}
            >
              <thead className="text-xs text-muted uppercase">
                <tr>
                  <th className="py-2 pr-3">Name</th>
                  <th className="py-2 pr-3">Value</th>
                  <th className="py-2 pr-3">Updated</th>
                  {canEdit && <th className="py-2">{''}</th>}
                </tr>
              </thead>
              <tbody>
                {env.variables.map((v) => (
                  <tr key={v.name} className="border-t border-line">
                    <td className="py-2 pr-3 font-mono">{v.name}</td>
                    <td className="max-w-[20rem] truncate py-2 pr-3 font-mono">
                      {v.secret ? (
                        <span className="text-muted" title="Secret: write-only, never shown">
                          •••••••• <span className="font-sans text-xs">secret</span>
                        </span>
                      ) : (
                        v.value
                      )}
                    </td>
                    <td className="py-2 pr-3 text-muted">{timeAgo(v.updated_at)}</td>
                    {canEdit && (
                      <td className="py-2 text-right">
                        <ConfirmButton
                          label="Delete"
                          tone="danger"
                          title={`Delete ${v.name}?`}
                          description={`${v.name} is removed from ${env.name}: builds and deployments that start from now on will not have it.`}
                          onConfirm={() => remove.mutateAsync(v.name).catch(() => {})}
                        />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {canEdit && <AddVariable projectId={projectId} environment={env} onDone={refresh} />}
      </div>
    </Card>
  );
}

function AddVariable({
  projectId,
  environment: env,
  onDone,
}: {
  projectId: string;
  environment: Environment;
  onDone: () => Promise<unknown>;
}) {
  const [secret, setSecret] = useState(false);
  const secretId = useId();
  const set = useMutation({
    mutationFn: (input: { name: string; value: string }) =>
      unwrap(
        api.PUT('/api/projects/{id}/environments/{environment}/variables/{name}', {
          params: { path: { id: projectId, environment: env.name, name: input.name } },
          body: { value: input.value, secret },
        }),
      ),
    onSuccess: onDone,
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    set.mutate(
      { name: String(data.get('name') ?? ''), value: String(data.get('value') ?? '') },
      { onSuccess: () => form.reset() },
    );
  }
  return (
    <form onSubmit={submit} className="flex flex-col gap-2 border-t border-line pt-3">
      <ErrorNotice error={set.error} />
      <div className="flex flex-wrap items-end gap-3">
        <Field label="Name" name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" />
        <Field label="Value" name="value" type={secret ? 'password' : 'text'} autoComplete="off" />
        <label htmlFor={secretId} className="flex items-center gap-2 py-2 text-sm">
          <input
            id={secretId}
            type="checkbox"
            checked={secret}
            onChange={(e) => setSecret(e.target.checked)}
          />
          Secret (write-only)
        </label>
        <Button type="submit" tone="primary" disabled={set.isPending}>
          Add variable
        </Button>
      </div>
    </form>
  );
}

/**
 * `.env` text for an environment. "Edit" holds its plain variables (secrets are never read
 * back, so never in it) and saving makes the environment match; "paste" adds and updates only.
 */
function DotenvEditor({
  mode,
  projectId,
  environment: env,
  onDone,
}: {
  mode: 'edit' | 'paste';
  projectId: string;
  environment: Environment;
  onDone: () => Promise<unknown>;
}) {
  const textId = useId();
  const secretId = useId();
  const current: CurrentVariable[] = env.variables;
  const [text, setText] = useState(() =>
    mode === 'edit'
      ? serializeDotenv(
          env.variables
            .filter((v) => !v.secret)
            .map((v) => ({ name: v.name, value: v.value ?? '' })),
        )
      : '',
  );
  const [asSecret, setAsSecret] = useState(false);
  const parsed = parseDotenv(text);
  const plan = planDotenv(current, parsed.entries, { asSecret, removeMissing: mode === 'edit' });
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: () => applyPlan(projectId, env.name, plan),
    onSuccess: onDone,
    // Some changes may have been made before the failure: show the list as it is now.
    onError: () => queryClient.invalidateQueries({ queryKey: ['environments', projectId] }),
  });
  const secrets = env.variables.filter((v) => v.secret).map((v) => v.name);
  return (
    <div className="flex flex-col gap-2 rounded-md border border-line p-3">
      <label htmlFor={textId} className="text-sm font-medium">
        {mode === 'edit' ? `${env.name} variables as .env` : `Paste .env into ${env.name}`}
      </label>
      <p className="text-xs text-muted">
        One <code>NAME=value</code> a line; <code>#</code> comments and quotes work.{' '}
        {mode === 'edit'
          ? 'Names you delete here are deleted. Secrets are not shown and stay as they are'
          : 'Adds and updates; nothing is deleted'}
        {mode === 'edit' && secrets.length > 0 ? ` (${secrets.join(', ')}).` : '.'}
      </p>
      <textarea
        id={textId}
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={Math.min(16, Math.max(5, text.split('\n').length + 1))}
        spellCheck={false}
        className="rounded-md border border-line bg-canvas p-2 font-mono text-sm"
        aria-describedby={parsed.problems.length ? `${textId}-problems` : undefined}
      />
      {parsed.problems.length > 0 && (
        <ul id={`${textId}-problems`} className="text-xs text-danger">
          {parsed.problems.map((p) => (
            <li key={p.line}>
              Line {p.line}: {p.message}
            </li>
          ))}
        </ul>
      )}
      <label htmlFor={secretId} className="flex items-center gap-2 text-sm">
        <input
          id={secretId}
          type="checkbox"
          checked={asSecret}
          onChange={(e) => setAsSecret(e.target.checked)}
        />
        Store these values as secrets (write-only)
      </label>
      <ErrorNotice error={save.error} />
      <div className="flex flex-wrap items-center gap-2">
        <ConfirmButton
          label="Save variables"
          tone="primary"
          title={`Save ${env.name} variables?`}
          description={`${describePlan(plan)} Builds and deployments that start from now on use them.`}
          disabled={
            parsed.problems.length > 0 || (plan.set.length === 0 && plan.remove.length === 0)
          }
          confirmLabel="Save"
          onConfirm={() => save.mutateAsync().catch(() => {})}
        />
        <span className="text-xs text-muted">{describePlan(plan)}</span>
      </div>
    </div>
  );
}
