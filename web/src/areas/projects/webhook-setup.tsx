import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { ErrorNotice } from '../../components/error-notice';
import { Card } from '../../components/ui';
import { useCan } from '../../lib/roles';
import { CopyValue } from './copy-value';
import { GitHookForm } from './git-hook-form';
import { type Project, webhookUrl } from './queries';

// A secret just shown by the API (creation, rotation), kept in memory only until the overview
// has taken it: it is never in the URL, storage or the query cache.
const freshSecrets = new Map<string, string>();

export function handOverSecret(projectId: string, secret: string) {
  freshSecrets.set(projectId, secret);
}

/** Whether the project was created just now and its secret waits to be shown. */
export function hasFreshSecret(projectId: string): boolean {
  return freshSecrets.has(projectId);
}

const PROVIDERS = [
  { id: 'github', label: 'GitHub', field: 'Secret' },
  { id: 'gitlab', label: 'GitLab', field: 'Secret token' },
  { id: 'gitea', label: 'Gitea / Forgejo', field: 'Secret' },
] as const;

/** The webhook URL and secret to paste into the git provider, for builds on every push. */
export function WebhookSetup({ project }: { project: Project }) {
  const [secret, setSecret] = useState(() => freshSecrets.get(project.id));
  useEffect(() => {
    freshSecrets.delete(project.id);
  }, [project.id]);
  const canRotate = useCan(project.workspace_id, 'admin');
  const queryClient = useQueryClient();
  const rotate = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/projects/{id}/webhook-secret', { params: { path: { id: project.id } } }),
      ),
    onSuccess: (answer) => {
      setSecret(answer.webhook_secret);
      // A webhook Sparki made on GitLab/Gitea still has the old secret: its card must say so.
      void queryClient.invalidateQueries({ queryKey: ['project', project.id, 'git-hook'] });
    },
  });
  const providers =
    project.git_provider === 'none'
      ? PROVIDERS
      : PROVIDERS.filter((provider) => provider.id === project.git_provider);

  return (
    <Card title="Webhook">
      <div className="flex flex-col gap-3 text-sm">
        <p className="text-muted">
          Add a webhook in the repository’s settings so that every push starts a build (content type{' '}
          <code>application/json</code>; push and pull request events)
          {(project.git_provider === 'gitlab' || project.git_provider === 'gitea') &&
            ', or let Sparki create it with an access token below'}
          .
          {project.git_provider === 'none' &&
            ' The project names no git provider: set one in its settings, it must match the URL.'}
        </p>
        {providers.map((provider) => (
          <CopyValue
            key={provider.id}
            label={`${provider.label} payload URL`}
            value={webhookUrl(provider.id, project.id)}
          />
        ))}
        {secret ? (
          <div className="flex flex-col gap-2 rounded-md border border-warn/50 bg-warn/10 p-3">
            <CopyValue label="Webhook secret" value={secret} secret />
            <p className="text-xs text-muted">
              Shown once: copy it into the provider’s {providers[0]?.field ?? 'Secret'} field now.
              Sparki keeps it sealed and will not show it again.
            </p>
          </div>
        ) : (
          <p className="text-muted">
            The webhook secret was shown once, when the project was created.
            {canRotate
              ? ' Lost it? Replace it with a new one below.'
              : ' An admin of the workspace can replace it if it was lost.'}
          </p>
        )}
        <ErrorNotice error={rotate.error} />
        {canRotate && (
          <div>
            <ConfirmButton
              label="Replace webhook secret"
              title="Replace the webhook secret?"
              description="A new secret is made and shown once. Deliveries signed with the current secret are refused from now on, until you paste the new one into the git provider’s webhook settings."
              confirmLabel="Replace secret"
              onConfirm={() => rotate.mutateAsync().catch(() => undefined)}
            />
          </div>
        )}
        {(project.git_provider === 'gitlab' || project.git_provider === 'gitea') && (
          <GitHookForm project={project} canEdit={canRotate} />
        )}
      </div>
    </Card>
  );
}
