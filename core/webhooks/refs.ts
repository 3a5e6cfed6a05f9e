/**
 * What a build takes from a delivery, checked before it is stored or handed to git: a provider's
 * signature proves who sent the body, not that its fields are usable.
 */

/** Longest full ref accepted (`refs/heads/…`), in UTF-8 bytes; git itself caps paths at 4096. */
export const MAX_REF_BYTES = 1024;

/** Commit messages are for display: longer ones are cut here. */
export const MAX_COMMIT_MESSAGE_CHARS = 4096;

/** SHA-1 (40 hex) or SHA-256 (64 hex) object names. */
const COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
const ZERO_SHA = /^0+$/;

export function isCommitSha(text: string): boolean {
  return COMMIT_SHA.test(text);
}

/** The all-zeros sha providers send as `after` when a ref was deleted. */
export function isZeroSha(text: string): boolean {
  return isCommitSha(text) && ZERO_SHA.test(text);
}

const encoder = new TextEncoder();

// git check-ref-format, rule 4 (control characters, DEL, space, ~ ^ :), 5 (? * [) and 10 (\).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const FORBIDDEN_CHARACTERS = /[\u0000-\u0020\u007f~^:?*[\\]/;
// A lone UTF-16 surrogate has no UTF-8 form: it would reach git and Postgres altered.
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

/**
 * Why git would refuse `ref` as a full ref name (`git check-ref-format`, which also requires at
 * least two components), or null when it is fine.
 */
export function refNameProblem(ref: string): string | null {
  if (ref.length === 0) return 'is empty';
  if (encoder.encode(ref).byteLength > MAX_REF_BYTES) return `is over ${MAX_REF_BYTES} bytes`;
  if (LONE_SURROGATE.test(ref)) return 'is not valid Unicode';
  if (FORBIDDEN_CHARACTERS.test(ref)) {
    return 'contains a control character, a space or one of ~ ^ : ? * [ \\';
  }
  if (ref.includes('..')) return 'contains ".."';
  if (ref.includes('@{')) return 'contains "@{"';
  if (ref === '@') return 'is "@"';
  if (ref.endsWith('.')) return 'ends with "."';
  const components = ref.split('/');
  if (components.length < 2) return 'has no "/"';
  if (components.some((component) => component === '')) {
    return 'starts or ends with "/", or contains "//"';
  }
  if (components.some((component) => component.startsWith('.'))) {
    return 'has a component starting with "."';
  }
  if (components.some((component) => component.endsWith('.lock'))) {
    return 'has a component ending with ".lock"';
  }
  return null;
}

/**
 * Why a branch or tag name (short, as in `refs/heads/<name>`) is unusable, or null. Beyond git's
 * ref rules, a leading "-" is refused as `git branch` refuses it: such a name handed to a git
 * command reads as an option.
 */
export function shortRefProblem(kind: 'heads' | 'tags', name: string): string | null {
  if (name.startsWith('-')) return 'starts with "-"';
  return refNameProblem(`refs/${kind}/${name}`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it replaces
const CONTROL_EXCEPT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/**
 * A commit message fit to store and show: control characters other than tab and newlines (NUL,
 * which Postgres text cannot hold; terminal escapes) and lone surrogates become U+FFFD, and it is
 * cut to MAX_COMMIT_MESSAGE_CHARS.
 */
export function displayCommitMessage(message: string): string {
  return message
    .slice(0, MAX_COMMIT_MESSAGE_CHARS)
    .replace(CONTROL_EXCEPT_WHITESPACE, '\ufffd')
    .replace(LONE_SURROGATES, '\ufffd');
}
