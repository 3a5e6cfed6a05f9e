import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { ErrorNotice } from '../../components/error-notice';
import { Field } from '../../components/ui';
import type { Project } from './queries';

/** Starts a build of a branch's head (developer+); the production branch deploys to production. */
export function StartBuild({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const [branch, setBranch] = useState(project.production_branch);
  const start = useMutation({
    mutationFn: (target: string) =>
      unwrap(
        api.POST('/api/projects/{id}/builds', {
          params: { path: { id: project.id } },
          body: { branch: target },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['project', project.id] });
      await queryClient.invalidateQueries({
        queryKey: ['workspace', project.workspace_id, 'projects'],
      });
    },
  });
  const chosen = branch.trim() || project.production_branch;
  const production = chosen === project.production_branch;
  return (
    <div className="flex flex-col gap-2">
      <div className="flex flex-wrap items-end gap-2">
        <div className="min-w-48 flex-1">
          <Field
            label="Branch to build"
            name="branch"
            value={branch}
            onChange={(event) => setBranch(event.target.value)}
          />
        </div>
        <ConfirmButton
          label="Start build"
          tone="primary"
          title={`Build ${chosen}?`}
          description={
            production
              ? `A runner checks out the head of ${chosen}, the production branch, builds it and deploys it to production.`
              : `A runner checks out the head of ${chosen}, builds it and deploys it as a preview.`
          }
          confirmLabel="Start build"
          disabled={!project.repo_url}
          onConfirm={() => start.mutateAsync(chosen).catch(() => undefined)}
        />
      </div>
      {!project.repo_url && (
        <p className="text-sm text-muted">Set a repository URL in the settings to build.</p>
      )}
      <ErrorNotice error={start.error} />
      {start.data && (
        <p role="status" className="text-sm">
          Build{' '}
          <Link
            to="/builds/$buildId"
            params={{ buildId: start.data.id }}
            className="font-medium text-accent underline"
          >
            #{start.data.number}
          </Link>{' '}
          of {start.data.branch ?? chosen} is {start.data.status}.
        </p>
      )}
    </div>
  );
}
