import { useMutation, useQueryClient } from '@tanstack/react-query';
import { createRoute, useNavigate } from '@tanstack/react-router';
import { workspaceSlug } from '../../../../core/slug';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Card, Field, PageHeader } from '../../components/ui';
import { formValues } from '../../lib/forms';
import { appLayout } from '../../routes/base';

export const newWorkspaceRoute = createRoute({
  getParentRoute: () => appLayout,
  path: '/workspaces/new',
  component: NewWorkspace,
});

function NewWorkspace() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: (values: Record<string, string>) =>
      unwrap(
        api.POST('/api/workspaces', {
          body: { name: values.name ?? '', slug: values.slug || workspaceSlug(values.name ?? '') },
        }),
      ),
    onSuccess: async (workspace) => {
      await queryClient.invalidateQueries({ queryKey: ['workspaces'] });
      await navigate({ to: '/w/$workspaceId/projects', params: { workspaceId: workspace.id } });
    },
  });
  return (
    <div className="mx-auto max-w-lg">
      <PageHeader title="Create a workspace">
        A workspace holds your team's projects, runners and members.
      </PageHeader>
      <Card>
        <form
          className="flex flex-col gap-4"
          onSubmit={(event) => create.mutate(formValues(event))}
        >
          <ErrorNotice error={create.error} />
          <Field label="Workspace name" name="name" required maxLength={100} />
          <Field
            label="Slug"
            name="slug"
            hint="Lowercase letters, digits and dashes; taken from the name when left empty."
            pattern="[a-z0-9][a-z0-9-]*"
          />
          <Button tone="primary" type="submit" disabled={create.isPending}>
            Create workspace
          </Button>
        </form>
      </Card>
    </div>
  );
}
