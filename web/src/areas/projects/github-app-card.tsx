import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Card, Spinner } from '../../components/ui';
import { useCan } from '../../lib/roles';

/** Sends the browser to GitHub's "new app" page with the manifest, as a form POST must. */
function postManifest(postUrl: string, manifest: unknown) {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = postUrl;
  const field = document.createElement('input');
  field.type = 'hidden';
  field.name = 'manifest';
  field.value = JSON.stringify(manifest);
  form.append(field);
  document.body.append(form);
  form.submit();
}

/**
 * "Connect GitHub": creates the workspace's GitHub App from a manifest (admin), then lists the
 * repositories it is installed on with an Import button each (docs/github-app.md).
 */
export function GitHubAppCard({ workspaceId }: { workspaceId: string }) {
  const isAdmin = useCan(workspaceId, 'admin');
  const canImport = useCan(workspaceId, 'developer');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const app = useQuery({
    queryKey: ['workspace', workspaceId, 'github-app'],
    queryFn: () =>
      unwrap(api.GET('/api/workspaces/{id}/github-app', { params: { path: { id: workspaceId } } })),
  });
  const repositories = useQuery({
    queryKey: ['workspace', workspaceId, 'github-app', 'repositories'],
    enabled: app.data?.connected === true,
    queryFn: () =>
      unwrap(
        api.GET('/api/workspaces/{id}/github-app/repositories', {
          params: { path: { id: workspaceId } },
        }),
      ),
  });
  const connect = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/workspaces/{id}/github-app/manifest', {
          params: { path: { id: workspaceId } },
        }),
      ),
    onSuccess: (started) => postManifest(started.post_url, started.manifest),
  });
  const importRepo = useMutation({
    mutationFn: (repository: string) =>
      unwrap(
        api.POST('/api/workspaces/{id}/github-app/import', {
          params: { path: { id: workspaceId } },
          body: { repository, production_branch: 'main', root_dir: '' },
        }),
      ),
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: ['workspace', workspaceId, 'projects'] });
      await navigate({ to: '/projects/$projectId', params: { projectId: created.id } });
    },
  });

  if (app.isPending) return <Spinner label="Loading the GitHub App" />;
  if (app.isError) return <ErrorNotice error={app.error} />;

  if (!app.data.connected) {
    return (
      <Card title="Connect GitHub">
        <div className="flex flex-col gap-3 text-sm">
          <p>
            Create this workspace’s own GitHub App: pushes then arrive without a webhook to set up,
            and commit statuses are posted as the app.
          </p>
          {isAdmin ? (
            <div>
              <Button tone="primary" onClick={() => connect.mutate()} disabled={connect.isPending}>
                {connect.isPending ? 'Opening GitHub…' : 'Connect GitHub'}
              </Button>
            </div>
          ) : (
            <p className="text-muted">An admin of this workspace can connect GitHub.</p>
          )}
          <ErrorNotice error={connect.error} />
        </div>
      </Card>
    );
  }

  const repos = repositories.data?.repositories ?? [];
  return (
    <Card
      title={`GitHub App ${app.data.slug ?? ''}`}
      actions={
        app.data.install_url && isAdmin ? (
          <a href={app.data.install_url} className="text-sm text-accent" rel="noreferrer">
            Install on repositories
          </a>
        ) : null
      }
    >
      {repositories.isPending ? (
        <Spinner label="Loading repositories" />
      ) : repositories.isError ? (
        <ErrorNotice error={repositories.error} />
      ) : repos.length === 0 ? (
        <p className="text-sm text-muted">
          The app is not installed on any repository yet: install it on GitHub, then come back.
        </p>
      ) : (
        <ul className="flex flex-col divide-y divide-line" aria-label="Repositories on GitHub">
          {repos.map((repo) => (
            <li
              key={repo.full_name}
              className="flex flex-wrap items-center justify-between gap-2 py-2"
            >
              <span className="text-sm font-medium">
                {repo.full_name}
                {repo.private && <span className="ml-2 text-xs text-muted">private</span>}
              </span>
              {canImport && (
                <Button
                  onClick={() => importRepo.mutate(repo.full_name)}
                  disabled={importRepo.isPending}
                  aria-label={`Import ${repo.full_name}`}
                >
                  Import
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
      <ErrorNotice error={importRepo.error} />
    </Card>
  );
}
