import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Schemas, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Field } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { formValues } from '../../lib/forms';
import type { Project } from './queries';

type GitHook = Schemas['GitHook'];

const NAMES = { gitlab: 'GitLab', gitea: 'Gitea' } as const;
const TOKEN_HINT = {
  gitlab: 'A personal, project or group access token with the api scope (Maintainer role).',
  gitea: 'An access token with write:repository, of a repository admin.',
} as const;

const gitHookQuery = (projectId: string) => ({
  queryKey: ['project', projectId, 'git-hook'],
  queryFn: () =>
    unwrap(api.GET('/api/projects/{id}/git-hook', { params: { path: { id: projectId } } })),
});

function HookState({ hook, provider }: { hook: GitHook; provider: 'gitlab' | 'gitea' }) {
  if (!hook.installed) {
    return <p className="text-muted">No webhook was created by Sparki on {NAMES[provider]} yet.</p>;
  }
  return (
    <div className="flex flex-col gap-1">
      <p>
        Webhook #{hook.hook_id} on {NAMES[provider]} ({hook.repository}), set up{' '}
        {timeAgo(hook.updated_at ?? hook.created_at)}.
      </p>
      {hook.secret_current === false && (
        <p className="rounded-md border border-warn/50 bg-warn/10 p-2">
          The webhook secret was replaced after this hook was made: its deliveries are refused.
          Create the webhook again to hand it the new secret.
        </p>
      )}
    </div>
  );
}

/**
 * Creates (or updates) the project's webhook on GitLab or Gitea through their API with a token
 * the user types in; the token goes to Sparki for this one request and is never stored or shown.
 */
export function GitHookForm({ project, canEdit }: { project: Project; canEdit: boolean }) {
  const provider = project.git_provider === 'gitea' ? 'gitea' : 'gitlab';
  const queryClient = useQueryClient();
  const hook = useQuery(gitHookQuery(project.id));
  const [token, setToken] = useState('');
  const [outcome, setOutcome] = useState<string>();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['project', project.id] });

  const create = useMutation({
    mutationFn: (body: { token: string; api_url?: string }) =>
      unwrap(
        api.POST('/api/projects/{id}/git-hook', { params: { path: { id: project.id } }, body }),
      ),
    onSuccess: (answer) => {
      setToken('');
      setOutcome(
        `${answer.result === 'created' ? 'Created' : 'Updated'} webhook #${answer.hook_id} on ${NAMES[provider]}: pushes now start builds.`,
      );
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE('/api/projects/{id}/git-hook', {
          params: { path: { id: project.id } },
          body: token ? { token } : {},
        }),
      ),
    onSuccess: (answer) => {
      setToken('');
      setOutcome(
        answer.removed === 'forgotten'
          ? `Sparki forgot the webhook; it is still on ${NAMES[provider]}.`
          : `Removed the webhook from ${NAMES[provider]}.`,
      );
      void refresh();
    },
  });

  return (
    <section
      aria-label={`Webhook on ${NAMES[provider]}`}
      className="flex flex-col gap-3 border-t border-line pt-3"
    >
      <h3 className="font-medium">
        {hook.data?.installed ? 'Webhook' : 'Create the webhook'} on {NAMES[provider]}
      </h3>
      {hook.data && <HookState hook={hook.data} provider={provider} />}
      <ErrorNotice error={hook.error ?? create.error ?? remove.error} />
      {outcome && (
        <p role="status" className="text-ok">
          {outcome}
        </p>
      )}
      {canEdit ? (
        <form
          className="flex flex-col gap-3"
          onSubmit={(event) => {
            const values = formValues(event);
            setOutcome(undefined);
            create.mutate({
              token,
              ...(values.api_url ? { api_url: values.api_url } : {}),
            });
          }}
        >
          <Field
            label={`${NAMES[provider]} access token`}
            name="git_token"
            type="password"
            autoComplete="off"
            required
            value={token}
            onChange={(event) => setToken(event.target.value)}
            hint={`${TOKEN_HINT[provider]} Used once to call ${NAMES[provider]}, never stored.`}
          />
          <Field
            label="API URL (optional)"
            name="api_url"
            type="url"
            placeholder={
              provider === 'gitlab'
                ? 'https://gitlab.com/api/v4'
                : 'https://gitea.example.com/api/v1'
            }
            hint="Defaults to the repository’s host."
          />
          <div className="flex flex-wrap gap-2">
            <Button type="submit" tone="primary" disabled={create.isPending || !token}>
              {hook.data?.installed ? 'Update the webhook' : 'Create the webhook'}
            </Button>
            {hook.data?.installed && (
              <ConfirmButton
                label="Remove the webhook"
                title="Remove the webhook?"
                description={
                  token
                    ? `The webhook is deleted on ${NAMES[provider]} with the token you entered, and pushes stop starting builds.`
                    : `No token entered: Sparki only forgets the webhook, which stays on ${NAMES[provider]}. Enter a token above to delete it there too.`
                }
                tone="danger"
                onConfirm={() => remove.mutateAsync().catch(() => undefined)}
              />
            )}
          </div>
        </form>
      ) : (
        <p className="text-muted">An admin of the workspace can create it with a token.</p>
      )}
    </section>
  );
}
