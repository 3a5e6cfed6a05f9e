import { useMutation, useQueryClient } from '@tanstack/react-query';
import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { useId, useState } from 'react';
import { projectSlug } from '../../../../core/slug';
import { api, type Schemas, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Card, EmptyState, Field, PageHeader } from '../../components/ui';
import { useCan } from '../../lib/roles';
import { workspaceRoute } from '../../routes/workspace';
import { DetectionSummary } from './detection-summary';
import { GitHubAppCard } from './github-app-card';
import { guessProvider, type Project } from './queries';
import { handOverSecret } from './webhook-setup';

export const newProjectRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: '/projects/new',
  component: NewProject,
});

/** The repository's last path segment without `.git`: a first guess at the project's name. */
function nameFromRepo(repoUrl: string): string {
  const last = repoUrl.replace(/\/+$/, '').split(/[/:]/).pop() ?? '';
  return last.replace(/\.git$/, '');
}

const PROVIDERS: { value: Project['git_provider']; label: string }[] = [
  { value: 'github', label: 'GitHub' },
  { value: 'gitlab', label: 'GitLab' },
  { value: 'gitea', label: 'Gitea / Forgejo' },
  { value: 'none', label: 'None (builds started by hand or the API)' },
];

function Preview({ preview }: { preview: Schemas['DetectPreview'] }) {
  if (preview.status === 'detected' && preview.detection) {
    return (
      <div className="flex flex-col gap-2">
        <p className="text-sm">
          Read from GitHub just now. Each build detects again in its own checkout, and{' '}
          <code>sparki.json</code> in the repository wins over what is found.
        </p>
        <DetectionSummary detection={preview.detection} />
      </div>
    );
  }
  return (
    <p className={`text-sm ${preview.status === 'failed' ? 'text-danger' : 'text-muted'}`}>
      {preview.status === 'failed' ? 'Detection would fail: ' : ''}
      {preview.reason}
    </p>
  );
}

function NewProject() {
  const { workspaceId } = newProjectRoute.useParams();
  const canCreate = useCan(workspaceId, 'developer');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const providerId = useId();
  const [repoUrl, setRepoUrl] = useState('');
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugTouched, setSlugTouched] = useState(false);
  const [provider, setProvider] = useState<Project['git_provider'] | null>(null);
  const [branch, setBranch] = useState('main');
  const [rootDir, setRootDir] = useState('');

  const effectiveName = name || nameFromRepo(repoUrl);
  const effectiveSlug = slugTouched ? slug : projectSlug(effectiveName);
  const effectiveProvider = provider ?? guessProvider(repoUrl);

  const preview = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/workspaces/{id}/projects/detect-preview', {
          params: { path: { id: workspaceId } },
          body: { repo_url: repoUrl.trim(), production_branch: branch, root_dir: rootDir },
        }),
      ),
  });
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/workspaces/{id}/projects', {
          params: { path: { id: workspaceId } },
          body: {
            name: effectiveName,
            slug: effectiveSlug,
            git_provider: effectiveProvider,
            repo_url: repoUrl.trim(),
            production_branch: branch,
            root_dir: rootDir,
          },
        }),
      ),
    onSuccess: async (created) => {
      handOverSecret(created.id, created.webhook_secret);
      await queryClient.invalidateQueries({ queryKey: ['workspace', workspaceId, 'projects'] });
      await navigate({ to: '/projects/$projectId', params: { projectId: created.id } });
    },
  });

  if (!canCreate) {
    return (
      <EmptyState title="You cannot create projects here">
        Creating a project needs the developer role in this workspace; ask an admin.{' '}
        <Link to="/w/$workspaceId/projects" params={{ workspaceId }} className="text-accent">
          Back to projects
        </Link>
      </EmptyState>
    );
  }

  return (
    <div className="mx-auto max-w-2xl">
      <PageHeader title="New project">
        A project builds one git repository on your runners and deploys it.
      </PageHeader>
      <div className="mb-4">
        <GitHubAppCard workspaceId={workspaceId} />
      </div>
      <form
        className="flex flex-col gap-4"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <Card title="Repository">
          <div className="flex flex-col gap-4">
            <Field
              label="Repository URL"
              name="repo_url"
              required
              maxLength={500}
              value={repoUrl}
              onChange={(event) => {
                setRepoUrl(event.target.value);
                preview.reset();
              }}
              placeholder="https://github.com/acme/web.git"
              hint="Any URL git accepts (https://, ssh://, git://, file://), or an absolute path on the runner’s machine for a local repository."
            />
            <div className="grid gap-4 sm:grid-cols-2">
              <Field
                label="Production branch"
                name="production_branch"
                required
                value={branch}
                onChange={(event) => {
                  setBranch(event.target.value);
                  preview.reset();
                }}
                hint="Pushes to it deploy to production; other branches get previews."
              />
              <Field
                label="Root directory"
                name="root_dir"
                value={rootDir}
                onChange={(event) => {
                  setRootDir(event.target.value);
                  preview.reset();
                }}
                placeholder="apps/web"
                hint="Relative to the repository; empty for its root."
              />
            </div>
            <div className="flex flex-col gap-1">
              <label htmlFor={providerId} className="text-sm font-medium">
                Git provider
              </label>
              <select
                id={providerId}
                name="git_provider"
                value={effectiveProvider}
                onChange={(event) => setProvider(event.target.value as Project['git_provider'])}
                className="rounded-md border border-line bg-panel px-3 py-2 text-sm"
              >
                {PROVIDERS.map((option) => (
                  <option key={option.value} value={option.value}>
                    {option.label}
                  </option>
                ))}
              </select>
              <p className="text-xs text-muted">Which webhook deliveries the project takes.</p>
            </div>
          </div>
        </Card>

        <Card
          title="Detection"
          actions={
            <Button
              onClick={() => preview.mutate()}
              disabled={!repoUrl.trim() || preview.isPending}
            >
              {preview.isPending ? 'Checking…' : 'Preview detection'}
            </Button>
          }
        >
          <div aria-live="polite">
            <ErrorNotice error={preview.error} />
            {preview.data ? (
              <Preview preview={preview.data} />
            ) : (
              <p className="text-sm text-muted">
                How to build the project (framework, package manager, commands, output) is detected
                from its files. Preview it for a public GitHub repository; any other is detected on
                the first build.
              </p>
            )}
          </div>
        </Card>

        <Card title="Project">
          <div className="grid gap-4 sm:grid-cols-2">
            <Field
              label="Name"
              name="name"
              required
              maxLength={100}
              value={effectiveName}
              onChange={(event) => setName(event.target.value)}
            />
            <Field
              label="Slug"
              name="slug"
              required
              maxLength={60}
              pattern="[a-z0-9]([a-z0-9-]*[a-z0-9])?"
              value={effectiveSlug}
              onChange={(event) => {
                setSlugTouched(true);
                setSlug(event.target.value);
              }}
              hint="Lower-case letters, digits and inner dashes; part of the project’s URLs."
            />
          </div>
        </Card>

        <ErrorNotice error={create.error} />
        <div className="flex flex-wrap gap-2">
          <Button tone="primary" type="submit" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create project'}
          </Button>
          <Link
            to="/w/$workspaceId/projects"
            params={{ workspaceId }}
            className="inline-flex items-center rounded-md px-3 py-2 text-sm text-muted"
          >
            Cancel
          </Link>
        </div>
      </form>
    </div>
  );
}
