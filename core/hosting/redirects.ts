import { compilePattern, type PathPattern, substitute } from './path-pattern';

export const REDIRECT_STATUSES = [200, 301, 302, 303, 307, 308, 404] as const;
export type RedirectStatus = (typeof REDIRECT_STATUSES)[number];
export const MAX_REDIRECT_RULES = 2_100;

export interface RedirectRule {
  from: PathPattern;
  to: string;
  status: RedirectStatus;
  /** Netlify's `!`: applies even when a file exists at the path. */
  force: boolean;
  line: number;
}

export interface RuleProblem {
  line: number;
  message: string;
}

/**
 * Parses a `_redirects` file the way Netlify and Cloudflare Pages read it: one rule a line,
 * `from to [status][!]`, `#` comments, 302 by default, 200 for a rewrite.
 */
export function parseRedirects(text: string): { rules: RedirectRule[]; problems: RuleProblem[] } {
  const rules: RedirectRule[] = [];
  const problems: RuleProblem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!content) return;
    const [from, to, code, ...rest] = content.split(/\s+/);
    if (!from || !to || rest.length > 0) {
      problems.push({ line, message: 'expected "from to [status]"' });
      return;
    }
    if (!from.startsWith('/')) {
      problems.push({ line, message: `source "${from}" must start with /` });
      return;
    }
    const status = Number((code ?? '302').replace(/!$/, ''));
    if (!REDIRECT_STATUSES.includes(status as RedirectStatus)) {
      problems.push({ line, message: `unsupported status "${code}"` });
      return;
    }
    if (status === 200 && !to.startsWith('/')) {
      problems.push({ line, message: 'a 200 rewrite must point to a path on this site' });
      return;
    }
    if (rules.length === MAX_REDIRECT_RULES) {
      problems.push({
        line,
        message: `more than ${MAX_REDIRECT_RULES} rules; the rest are ignored`,
      });
      return;
    }
    rules.push({
      from: compilePattern(from),
      to,
      status: status as RedirectStatus,
      force: code?.endsWith('!') ?? false,
      line,
    });
  });
  return { rules, problems };
}

export interface RedirectMatch {
  location: string;
  status: RedirectStatus;
  force: boolean;
}

/** The first rule that matches wins; query strings carry over to the destination. */
export function matchRedirect(rules: readonly RedirectRule[], url: URL): RedirectMatch | null {
  for (const rule of rules) {
    const params = rule.from.match(url.pathname);
    if (!params) continue;
    let location = substitute(rule.to, params);
    if (url.search && !location.includes('?')) location += url.search;
    return { location, status: rule.status, force: rule.force };
  }
  return null;
}
