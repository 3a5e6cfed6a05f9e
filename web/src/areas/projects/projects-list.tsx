import { useQuery } from '@tanstack/react-query';
import { createRoute, Link } from '@tanstack/react-router';
import { ErrorNotice } from '../../components/error-notice';
import { StatusBadge } from '../../components/status-badge';
import { EmptyState, PageHeader, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { useCan } from '../../lib/roles';
import { workspaceRoute } from '../../routes/workspace';
import { TableHead } from './builds-table';
import { type Project, projectsQuery } from './queries';

export const projectsListRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: '/projects',
  component: ProjectsList,
});

/** The newest of the project's own change and its newest build. */
function lastActivity(project: Project): string {
  const build = project.latest_build?.created_at;
  return build && build > project.updated_at ? build : project.updated_at;
}

function NewProjectLink({ workspaceId }: { workspaceId: string }) {
  return (
    <Link
      to="/w/$workspaceId/projects/new"
      params={{ workspaceId }}
      className="inline-flex items-center rounded-md bg-accent px-3 py-2 text-sm font-medium text-accent-ink hover:opacity-90"
    >
      New project
    </Link>
  );
}

function ProjectsList() {
  const { workspaceId } = projectsListRoute.useParams();
  const workspace = workspaceRoute.useLoaderData();
  const canCreate = useCan(workspaceId, 'developer');
  const projects = useQuery(projectsQuery(workspaceId));

  return (
    <div>
      <PageHeader
        title="Projects"
        actions={canCreate && <NewProjectLink workspaceId={workspaceId} />}
      >
        Projects of {workspace.name}: each builds one repository and deploys it.
      </PageHeader>
      <ErrorNotice error={projects.error} />
      {projects.isPending ? (
        <Spinner label="Loading projects" />
      ) : projects.data?.length === 0 ? (
        <EmptyState title="No projects yet">
          {canCreate
            ? 'Create one from a git repository with “New project”: Sparki detects how to build it and deploys every push.'
            : 'A developer of this workspace can create one from a git repository.'}
        </EmptyState>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-line bg-panel">
          <table className="w-full min-w-[40rem] text-left text-sm">
            <TableHead
              cell="px-4 py-2"
              columns={['Project', 'Status', 'Framework', 'Production', 'Last activity']}
            />
            <tbody>
              {projects.data?.map((project) => (
                <tr key={project.id} className="border-b border-line last:border-0">
                  <td className="px-4 py-3">
                    <Link
                      to="/projects/$projectId"
                      params={{ projectId: project.id }}
                      className="font-medium text-accent underline-offset-2 hover:underline"
                    >
                      {project.name}
                    </Link>
                    <div className="text-xs text-muted">{project.repo_url ?? 'no repository'}</div>
                  </td>
                  <td className="px-4 py-3">
                    {project.latest_build ? (
                      <span className="inline-flex flex-wrap items-center gap-1">
                        <StatusBadge status={project.latest_build.status} />
                        <span className="text-xs text-muted">
                          build #{project.latest_build.number}
                        </span>
                      </span>
                    ) : (
                      <span className="text-muted">No builds</span>
                    )}
                  </td>
                  <td className="px-4 py-3">{project.framework ?? '—'}</td>
                  <td className="px-4 py-3">
                    {project.production_url ? (
                      <a
                        href={project.production_url}
                        target="_blank"
                        rel="noreferrer"
                        className="text-accent underline-offset-2 hover:underline"
                      >
                        {project.production_url.replace(/^https?:\/\//, '')}
                      </a>
                    ) : (
                      <span className="text-muted">Not live</span>
                    )}
                  </td>
                  <td className="px-4 py-3 text-muted">
                    <time dateTime={lastActivity(project)}>{timeAgo(lastActivity(project))}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
