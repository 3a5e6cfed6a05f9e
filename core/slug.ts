/** The longest project slug the API takes (workers/api/projects/schemas.ts). */
export const PROJECT_SLUG_MAX = 60;
/** The longest workspace slug the API takes (workers/api/workspaces/workspaces.ts). */
export const WORKSPACE_SLUG_MAX = 40;

/**
 * A slug guessed from a name: lower case, runs of anything else as one dash, no dash at either
 * end, at most `max` characters. Empty when the name has no letter or digit.
 */
function slugOf(name: string, max: number): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
}

export const projectSlug = (name: string): string => slugOf(name, PROJECT_SLUG_MAX);
export const workspaceSlug = (name: string): string => slugOf(name, WORKSPACE_SLUG_MAX);
