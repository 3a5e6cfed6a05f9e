/** The longest project slug the API takes (workers/api/projects/schemas.ts). */
export const PROJECT_SLUG_MAX = 60;

/**
 * A project slug guessed from a name: lower case, runs of anything else as one dash, no dash at
 * either end, at most 60 characters. Empty when the name has no letter or digit.
 */
export function projectSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, PROJECT_SLUG_MAX)
    .replace(/-+$/, '');
}
