/** `.env` text: parsing what people paste, writing it back, and what an edit changes. */

export interface DotenvEntry {
  name: string;
  value: string;
}

export interface DotenvProblem {
  /** 1-based line number. */
  line: number;
  message: string;
}

export interface DotenvResult {
  entries: DotenvEntry[];
  problems: DotenvProblem[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/**
 * Parses `.env` text: `NAME=value` lines, optional `export `, `#` comments and blank lines,
 * values bare (a ` #` starts a comment), in single quotes (literal) or in double quotes (`\n`,
 * `\t`, `\"`, `\\` escapes; may span lines). A later line for the same name wins.
 */
export function parseDotenv(text: string): DotenvResult {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const byName = new Map<string, string>();
  const problems: DotenvProblem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s?(.*)$/.exec(line);
    if (!match) {
      problems.push({ line: lineNo, message: 'expected NAME=value' });
      continue;
    }
    const name = match[1]!;
    let rest = match[2]!.trimStart();
    if (!NAME.test(name)) {
      problems.push({
        line: lineNo,
        message: `${name} is not a variable name (letters, digits, underscore; no leading digit)`,
      });
      continue;
    }
    let value: string;
    if (rest.startsWith('"')) {
      // Double quotes: escapes, and the value may go on over the following lines.
      let body = rest.slice(1);
      let end = closingQuote(body);
      while (end === -1 && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i]!}`;
        end = closingQuote(body);
      }
      if (end === -1) {
        problems.push({ line: lineNo, message: `${name}: the double quote is never closed` });
        continue;
      }
      value = body.slice(0, end).replace(/\\(.)/g, (all, c: string) => ESCAPES[c] ?? all);
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end === -1) {
        problems.push({ line: lineNo, message: `${name}: the single quote is never closed` });
        continue;
      }
      value = rest.slice(1, end);
    } else {
      const comment = rest.search(/\s#/);
      if (comment !== -1) rest = rest.slice(0, comment);
      value = rest.trim();
    }
    byName.delete(name);
    byName.set(name, value);
  }
  const entries = [...byName].map(([name, value]) => ({ name, value }));
  return { entries, problems };
}

function closingQuote(body: string): number {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') i++;
    else if (body[i] === '"') return i;
  }
  return -1;
}

/** One `NAME=value` line per entry; values that need it are double-quoted with escapes. */
export function serializeDotenv(entries: readonly DotenvEntry[]): string {
  return entries
    .map(({ name, value }) => {
      if (value === '' || /^[A-Za-z0-9_./:@+,-]+$/.test(value)) return `${name}=${value}`;
      const escaped = value
        .replace(/\\/g, '\\\\')
        .replace(/"/g, '\\"')
        .replace(/\n/g, '\\n')
        .replace(/\r/g, '\\r')
        .replace(/\t/g, '\\t');
      return `${name}="${escaped}"`;
    })
    .map((line) => `${line}\n`)
    .join('');
}

export interface CurrentVariable {
  name: string;
  secret: boolean;
  /** Absent for a secret: its value is never read back. */
  value?: string | undefined;
}

export interface DotenvPlan {
  /** Variables to write, new or changed. */
  set: { name: string; value: string; secret: boolean }[];
  /** Plain variables the text no longer lists. */
  remove: string[];
}

/**
 * What saving edited `.env` text changes. The text holds the plain variables (secrets are
 * write-only, so they are never in it): names it lists are written when new or changed, as
 * secrets when `asSecret` (or when the name is a secret already); plain variables it no longer
 * lists are removed. Secrets it does not list are left alone.
 */
export function planDotenv(
  current: readonly CurrentVariable[],
  entries: readonly DotenvEntry[],
  options: { asSecret?: boolean; removeMissing?: boolean } = {},
): DotenvPlan {
  const byName = new Map(current.map((v) => [v.name, v]));
  const listed = new Set(entries.map((e) => e.name));
  const set: DotenvPlan['set'] = [];
  for (const { name, value } of entries) {
    const existing = byName.get(name);
    const secret = Boolean(options.asSecret) || Boolean(existing?.secret);
    if (existing && !existing.secret && !secret && existing.value === value) continue;
    set.push({ name, value, secret });
  }
  const remove =
    options.removeMissing === false
      ? []
      : current.filter((v) => !v.secret && !listed.has(v.name)).map((v) => v.name);
  return { set, remove };
}
