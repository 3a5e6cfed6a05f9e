import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { ApiError, api, type Schemas, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Card, Spinner } from '../../components/ui';

type Settings = Schemas['DeploySettings'];
type Target = Settings['deploy_target'];
type Strategy = Settings['strategy'];

const TARGETS: { id: Target; label: string }[] = [
  { id: 'edge', label: 'Edge host (built in)' },
  { id: 'cloudflare_workers', label: 'Cloudflare Workers' },
  { id: 'vercel', label: 'Vercel' },
  { id: 'fly_machines', label: 'Fly Machines' },
  { id: 'render', label: 'Render' },
  { id: 'railway', label: 'Railway' },
  { id: 'webhook', label: 'Signed webhook' },
];
const STRATEGIES: Strategy[] = ['all_at_once', 'blue_green', 'canary'];
const INPUT = 'rounded-md border border-line bg-panel px-3 py-2 text-sm';

const settingsQuery = (environmentId: string) => ({
  queryKey: ['deploy-settings', environmentId],
  queryFn: () =>
    unwrap(
      api.GET('/api/environments/{id}/deploy-settings', {
        params: { path: { id: environmentId } },
      }),
    ),
});

/** The problems a 400 names (`details.problems`), one line each. */
function problemsOf(error: unknown): string[] {
  if (!(error instanceof ApiError)) return [];
  const details = error.details as { problems?: { field: string; message: string }[] } | undefined;
  return details?.problems?.map((p) => `${p.field}: ${p.message}`) ?? [];
}

/** Where and how an environment deploys: its target (adapter), strategy, settings, credentials. */
export function DeploySettingsCard({
  environmentId,
  canEdit,
}: {
  environmentId: string;
  canEdit: boolean;
}) {
  const settings = useQuery(settingsQuery(environmentId));
  const [editing, setEditing] = useState(false);
  return (
    <Card
      title="Deploy target"
      actions={
        canEdit &&
        settings.data && (
          <Button onClick={() => setEditing(!editing)}>{editing ? 'Close' : 'Change'}</Button>
        )
      }
    >
      <ErrorNotice error={settings.error} />
      {settings.isPending && <Spinner label="Loading deploy settings" />}
      {settings.data &&
        (editing ? (
          <SettingsForm settings={settings.data} onDone={() => setEditing(false)} />
        ) : (
          <dl className="grid grid-cols-1 gap-x-6 gap-y-1 text-sm sm:grid-cols-[max-content_1fr]">
            <dt className="text-muted">Target</dt>
            <dd>
              {TARGETS.find((t) => t.id === settings.data.deploy_target)?.label ??
                settings.data.deploy_target}
            </dd>
            <dt className="text-muted">Strategy</dt>
            <dd>{settings.data.strategy.replaceAll('_', ' ')}</dd>
            <dt className="text-muted">Deploys on its own</dt>
            <dd>{settings.data.auto_deploy ? 'yes, after each successful build' : 'no'}</dd>
            <dt className="text-muted">Credentials</dt>
            <dd>
              {settings.data.credentials_set.length
                ? `set: ${settings.data.credentials_set.join(', ')} (never shown)`
                : 'none'}
            </dd>
          </dl>
        ))}
    </Card>
  );
}

function SettingsForm({ settings, onDone }: { settings: Settings; onDone: () => void }) {
  const id = useId();
  const queryClient = useQueryClient();
  const [target, setTarget] = useState<Target>(settings.deploy_target);
  const [configError, setConfigError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: Schemas['UpdateDeploySettings']) =>
      unwrap(
        api.PATCH('/api/environments/{id}/deploy-settings', {
          params: { path: { id: settings.environment_id } },
          body,
        }),
      ),
    onSuccess: async (updated) => {
      queryClient.setQueryData(['deploy-settings', settings.environment_id], updated);
      onDone();
    },
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    let deployConfig: Record<string, unknown>;
    let credentials: Record<string, string> | undefined;
    try {
      deployConfig = JSON.parse(String(data.get('deploy_config') || '{}'));
      const raw = String(data.get('credentials') ?? '').trim();
      credentials = raw ? JSON.parse(raw) : undefined;
    } catch (err) {
      setConfigError(`Not valid JSON: ${(err as Error).message}`);
      return;
    }
    setConfigError(null);
    save.mutate({
      deploy_target: target,
      strategy: String(data.get('strategy')) as Strategy,
      auto_deploy: data.get('auto_deploy') === 'on',
      deploy_config: deployConfig,
      ...(credentials && { credentials }),
    });
  }
  const problems = problemsOf(save.error);
  return (
    <form onSubmit={submit} className="flex flex-col gap-3 text-sm">
      <ErrorNotice error={save.error} />
      {problems.length > 0 && (
        <ul className="text-xs text-danger">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <div className="flex flex-wrap gap-3">
        <label htmlFor={`${id}-target`} className="flex flex-col gap-1">
          <span className="font-medium">Target</span>
          <select
            id={`${id}-target`}
            className={INPUT}
            value={target}
            onChange={(e) => setTarget(e.target.value as Target)}
          >
            {TARGETS.map((t) => (
              <option key={t.id} value={t.id}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={`${id}-strategy`} className="flex flex-col gap-1">
          <span className="font-medium">Strategy</span>
          <select
            id={`${id}-strategy`}
            name="strategy"
            className={INPUT}
            defaultValue={settings.strategy}
          >
            {STRATEGIES.map((s) => (
              <option key={s} value={s}>
                {s.replaceAll('_', ' ')}
                {target === settings.deploy_target && !settings.supported_strategies.includes(s)
                  ? ' (not supported by this target)'
                  : ''}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={`${id}-auto`} className="flex items-center gap-2 self-end py-2">
          <input
            id={`${id}-auto`}
            type="checkbox"
            name="auto_deploy"
            defaultChecked={settings.auto_deploy}
          />
          Deploy each successful build on its own
        </label>
      </div>
      <label htmlFor={`${id}-config`} className="flex flex-col gap-1">
        <span className="font-medium">Settings (JSON)</span>
        <span className="text-xs text-muted">
          Health check, SPA fallback, canary steps; <code>adapter</code> holds the target’s own
          settings.
        </span>
        <textarea
          id={`${id}-config`}
          name="deploy_config"
          rows={6}
          spellCheck={false}
          className={`${INPUT} font-mono`}
          defaultValue={JSON.stringify(settings.deploy_config, null, 2)}
        />
      </label>
      {target !== 'edge' && (
        <label htmlFor={`${id}-credentials`} className="flex flex-col gap-1">
          <span className="font-medium">Credentials (JSON, write-only)</span>
          <span className="text-xs text-muted">
            Leave empty to keep the stored ones
            {settings.credentials_set.length ? ` (${settings.credentials_set.join(', ')})` : ''}.
            They are stored encrypted and never shown again.
          </span>
          <textarea
            id={`${id}-credentials`}
            name="credentials"
            rows={3}
            spellCheck={false}
            autoComplete="off"
            className={`${INPUT} font-mono`}
          />
        </label>
      )}
      {configError && <p className="text-xs text-danger">{configError}</p>}
      <div>
        <Button type="submit" tone="primary" disabled={save.isPending}>
          Save deploy settings
        </Button>
      </div>
    </form>
  );
}
