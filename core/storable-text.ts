/**
 * Text Postgres cannot take as given: `text` columns refuse U+0000 and `jsonb` refuses its
 * `\u0000` escape (the query fails), while an unpaired UTF-16 surrogate has no UTF-8 form, so the
 * driver would store U+FFFD in its place without a word.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is what it refuses
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export const UNSTORABLE_TEXT_MESSAGE = 'must not contain U+0000 or an unpaired UTF-16 surrogate';

export function isStorableText(text: string): boolean {
  return text.search(UNSTORABLE) === -1;
}

/**
 * For text whose every character is worth keeping, such as a build's output: what cannot be
 * stored becomes U+FFFD, as undecodable bytes already do.
 */
export function toStorableText(text: string): string {
  return text.replace(UNSTORABLE, '\ufffd');
}

export interface UnstorableText {
  path: PropertyKey[];
  message: string;
  code: 'unstorable_text';
}

/** Enough to point at the problem; a body of a million bad strings gets no million-line answer. */
export const UNSTORABLE_TEXT_REPORT_MAX = 20;

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

interface Visit {
  value: unknown;
  key?: PropertyKey;
  parent?: Visit;
}

function pathOf(visit: Visit): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) path.push(at.key!);
  return path.reverse();
}

/**
 * Every string in `value` (array items, object keys and values, at any depth) Postgres cannot
 * store, by path. Iterative, with paths built only when reported: a JSON
 * body may nest deeper than the call stack goes.
 */
export function findUnstorableText(value: unknown): UnstorableText[] {
  const found: UnstorableText[] = [];
  const report = (visit: Visit) => {
    if (found.length < UNSTORABLE_TEXT_REPORT_MAX) {
      found.push({
        path: pathOf(visit),
        message: UNSTORABLE_TEXT_MESSAGE,
        code: 'unstorable_text',
      });
    }
  };
  const pending: Visit[] = [{ value }];
  while (pending.length > 0 && found.length < UNSTORABLE_TEXT_REPORT_MAX) {
    const visit = pending.pop()!;
    if (typeof visit.value === 'string') {
      if (!isStorableText(visit.value)) report(visit);
      continue;
    }
    const entries = Array.isArray(visit.value)
      ? visit.value.entries()
      : isPlainObject(visit.value)
        ? Object.entries(visit.value)
        : [];
    const children: Visit[] = [];
    for (const [key, item] of entries) {
      const child = { value: item, key, parent: visit };
      if (typeof key === 'string' && !isStorableText(key)) report(child);
      else children.push(child);
    }
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
  }
  return found;
}
