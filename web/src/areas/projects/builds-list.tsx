import { useInfiniteQuery } from '@tanstack/react-query';
import { createRoute, useNavigate } from '@tanstack/react-router';
import { ErrorNotice } from '../../components/error-notice';
import { SelectField } from '../../components/select-field';
import { Button, Card, EmptyState, Field, Spinner } from '../../components/ui';
import { formValues } from '../../lib/forms';
import { projectRoute } from '../../routes/project';
import { BuildsTable } from './builds-table';
import {
  BUILD_STATUSES,
  BUILD_TRIGGERS,
  type BuildFilters,
  type BuildStatus,
  type BuildTrigger,
  buildsQuery,
} from './queries';

function pick<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  return allowed.includes(value as T) ? (value as T) : undefined;
}

export const buildsListRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: '/builds',
  // The filters live in the URL: a filtered list can be reloaded, shared and gone back to.
  validateSearch: (search: Record<string, unknown>): BuildFilters => ({
    branch: typeof search.branch === 'string' && search.branch ? search.branch : undefined,
    status: pick<BuildStatus>(search.status, BUILD_STATUSES),
    trigger: pick<BuildTrigger>(search.trigger, BUILD_TRIGGERS),
  }),
  component: BuildsList,
});

/** A filter: any value, or one of `options`. */
function FilterSelect({
  label,
  name,
  value,
  options,
}: {
  label: string;
  name: string;
  value: string | undefined;
  options: readonly string[];
}) {
  return (
    <SelectField label={label} name={name} defaultValue={value ?? ''}>
      <option value="">Any</option>
      {options.map((option) => (
        <option key={option} value={option}>
          {option.replace('_', ' ')}
        </option>
      ))}
    </SelectField>
  );
}

function BuildsList() {
  const { projectId } = buildsListRoute.useParams();
  const filters = buildsListRoute.useSearch();
  const navigate = useNavigate({ from: buildsListRoute.fullPath });
  const builds = useInfiniteQuery(buildsQuery(projectId, filters));
  const rows = builds.data?.pages.flatMap((page) => page.builds) ?? [];
  const filtered = Boolean(filters.branch || filters.status || filters.trigger);

  function apply(values: Record<string, string>) {
    void navigate({
      search: {
        branch: values.branch?.trim() || undefined,
        status: pick<BuildStatus>(values.status, BUILD_STATUSES),
        trigger: pick<BuildTrigger>(values.trigger, BUILD_TRIGGERS),
      },
    });
  }

  return (
    <div className="flex flex-col gap-4">
      <Card>
        <form
          // Remounted when the URL changes, so the fields show the filters in force.
          key={JSON.stringify(filters)}
          aria-label="Filter builds"
          className="flex flex-wrap items-end gap-3"
          onSubmit={(event) => apply(formValues(event))}
        >
          <div className="min-w-40 flex-1">
            <Field label="Branch" name="branch" defaultValue={filters.branch ?? ''} />
          </div>
          <FilterSelect
            label="Status"
            name="status"
            value={filters.status}
            options={BUILD_STATUSES}
          />
          <FilterSelect
            label="Trigger"
            name="trigger"
            value={filters.trigger}
            options={BUILD_TRIGGERS}
          />
          <Button tone="primary" type="submit">
            Filter
          </Button>
          {filtered && <Button onClick={() => void navigate({ search: {} })}>Clear filters</Button>}
        </form>
      </Card>
      <ErrorNotice error={builds.error} />
      {builds.isPending ? (
        <Spinner label="Loading builds" />
      ) : rows.length === 0 ? (
        <EmptyState title={filtered ? 'No builds match these filters' : 'No builds yet'}>
          {filtered
            ? 'Clear or change the filters to see more.'
            : 'Start one from the overview, or push to the repository once its webhook is set up.'}
        </EmptyState>
      ) : (
        <Card>
          <BuildsTable builds={rows} caption="Builds, newest first" />
          {builds.hasNextPage && (
            <div className="mt-3 flex justify-center">
              <Button
                onClick={() => void builds.fetchNextPage()}
                disabled={builds.isFetchingNextPage}
              >
                {builds.isFetchingNextPage ? 'Loading…' : 'Older builds'}
              </Button>
            </div>
          )}
        </Card>
      )}
    </div>
  );
}
