import { compilePattern, type PathPattern, substitute } from './path-pattern';
import type { RuleProblem } from './redirects';

export interface HeaderRule {
  path: PathPattern;
  set: [name: string, value: string][];
  remove: string[];
}

/**
 * Parses a `_headers` file (Netlify / Cloudflare Pages): an unindented path pattern, then
 * indented `Name: value` lines for it; `! Name` removes a header an earlier rule set.
 */
export function parseHeaders(text: string): { rules: HeaderRule[]; problems: RuleProblem[] } {
  const rules: HeaderRule[] = [];
  const problems: RuleProblem[] = [];
  let current: HeaderRule | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (!raw.trim() || raw.trim().startsWith('#')) return;
    if (!/^\s/.test(raw)) {
      const source = raw.trim();
      if (!source.startsWith('/')) {
        problems.push({ line, message: `path "${source}" must start with /` });
        current = undefined;
        return;
      }
      current = { path: compilePattern(source), set: [], remove: [] };
      rules.push(current);
      return;
    }
    if (!current) {
      problems.push({ line, message: 'header line before any path' });
      return;
    }
    const content = raw.trim();
    if (content.startsWith('!')) {
      current.remove.push(content.slice(1).trim().toLowerCase());
      return;
    }
    const colon = content.indexOf(':');
    const name = content.slice(0, colon).trim();
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      problems.push({ line, message: 'expected "Name: value"' });
      return;
    }
    current.set.push([name, content.slice(colon + 1).trim()]);
  });
  return { rules, problems };
}

/** Applies every matching rule in order: values of one header from several rules are joined. */
export function applyHeaders(rules: readonly HeaderRule[], path: string, headers: Headers): void {
  const added = new Set<string>();
  for (const rule of rules) {
    const params = rule.path.match(path);
    if (!params) continue;
    for (const name of rule.remove) {
      headers.delete(name);
      added.delete(name);
    }
    for (const [name, value] of rule.set) {
      const key = name.toLowerCase();
      const filled = substitute(value, params);
      if (added.has(key)) headers.append(name, filled);
      else headers.set(name, filled);
      added.add(key);
    }
  }
}
