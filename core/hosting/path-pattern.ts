/** A `_redirects` / `_headers` path pattern: `*` is a splat, `:name` a placeholder segment. */
export interface PathPattern {
  source: string;
  match(path: string): Record<string, string> | null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

export function compilePattern(source: string): PathPattern {
  let splat = false;
  const body = source
    .split(/(\*|:[A-Za-z_]\w*)/)
    .map((part) => {
      if (part === '*') {
        // Only the first splat captures; later ones still match anything.
        const capture = splat ? '.*' : '(?<splat>.*)';
        splat = true;
        return capture;
      }
      if (/^:[A-Za-z_]\w*$/.test(part)) return `(?<${part.slice(1)}>[^/]+)`;
      return escapeRegExp(part);
    })
    .join('');
  const regex = new RegExp(`^${body}$`);
  return {
    source,
    match(path) {
      const found = regex.exec(path);
      return found ? { ...found.groups } : null;
    },
  };
}

/** Fills `:splat` and `:name` in a destination with what the source matched. */
export function substitute(template: string, params: Record<string, string>): string {
  return template.replace(/:([A-Za-z_]\w*)/g, (whole, name: string) => params[name] ?? whole);
}
