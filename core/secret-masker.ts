export const MASK = '***';

/** Shorter values would mask ordinary words and numbers all over the log. */
export const MIN_SECRET_LENGTH = 4;

const encoder = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The part of base64(filler + value) that depends on the value alone, for 0, 1 and 2 filler
 * bytes: inside a longer base64 string the value can start at any byte offset mod 3, and each
 * offset encodes it differently (the approach GitHub's runner takes).
 */
function base64Forms(value: string): string[] {
  const bytes = encoder.encode(value);
  return [0, 1, 2].map((offset) => {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const encoded = base64(padded);
    const start = [0, 2, 3][offset]!;
    const end = Math.floor((padded.length * 8) / 6);
    return encoded.slice(start, end);
  });
}

/** Characters no encoder below changes: they only ever appear as themselves. */
const PLAIN = /^[A-Za-z0-9]$/;

/** Backslash escapes of JSON, JavaScript and most languages' string literals. */
const BACKSLASH_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "'": "\\'",
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Leading zeros a numeric character reference may carry (PHP writes `&#039;`). */
const MAX_ZEROS = 3;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A hex number as a pattern that takes either case for each digit: `2f`, `2F`. */
function hexPattern(value: number, width: number): string {
  return [...value.toString(16).padStart(width, '0')]
    .map((digit) => (digit >= 'a' ? `[${digit}${digit.toUpperCase()}]` : digit))
    .join('');
}

/** A regular expression source and the length of the longest text it matches. */
interface Pattern {
  source: string;
  longest: number;
}

/**
 * The characters that begin an escape (`\`, `%`, `&`). Written as themselves inside an
 * encoded form, each one lets a failed match try two ways (`\\` is one escaped backslash or
 * two plain ones), doubling its work; past this many in one value they are matched only
 * encoded there, and the value as written is matched on its own, so the work stays bounded.
 */
const ESCAPE_STARTS = /[\\%&]/g;
const MAX_PLAIN_ESCAPE_STARTS = 8;

/**
 * One character of a secret in every encoding a build may print it in: percent-encoding of
 * its UTF-8 bytes (either hex case, `+` for a space as form encoding writes it), JSON and
 * string-literal escapes (`\/`, `\"`, `\uXXXX` of each UTF-16 unit, either hex case), XML
 * and HTML references, or itself. Encoders differ in which characters they leave alone
 * (encodeURI keeps `/` and `&`, PHP escapes `/` in JSON, Go escapes `<`), so each character
 * may take any of its forms independently.
 */
function characterPattern(char: string, escapeStartsAsIs: boolean): Pattern {
  if (PLAIN.test(char)) return { source: char, longest: 1 };
  const code = char.codePointAt(0)!;
  const bytes = [...encoder.encode(char)];
  // One escape per UTF-16 unit: an emoji is a surrogate pair, `\ud83d\udd11`.
  const units = Array.from({ length: char.length }, (_, i) => char.charCodeAt(i));
  const forms: [source: string, length: number][] = [
    [bytes.map((byte) => `%${hexPattern(byte, 2)}`).join(''), bytes.length * 3],
    [units.map((unit) => `\\\\u${hexPattern(unit, 4)}`).join(''), units.length * 6],
    [`&#0{0,${MAX_ZEROS}}${code};`, `&#${code};`.length + MAX_ZEROS],
    [
      `&#[xX]0{0,${MAX_ZEROS}}${hexPattern(code, 1)};`,
      `&#x${code.toString(16)};`.length + MAX_ZEROS,
    ],
  ];
  if (char === ' ') forms.push(['\\+', 1]);
  const escaped = BACKSLASH_ESCAPES[char];
  if (escaped) forms.push([escapeRegExp(escaped), escaped.length]);
  const entity = XML_ENTITIES[char];
  if (entity) forms.push([entity, entity.length]);
  // Last, so that an escape is taken whole where it can be: `\\` is one escaped backslash.
  if (escapeStartsAsIs || !'\\%&'.includes(char)) forms.push([escapeRegExp(char), char.length]);
  return {
    source: `(?:${forms.map(([source]) => source).join('|')})`,
    longest: Math.max(...forms.map(([, length]) => length)),
  };
}

/** A text in any of the encodings above, character by character. */
function encodedPatterns(text: string): Pattern[] {
  const escapeStartsAsIs = (text.match(ESCAPE_STARTS)?.length ?? 0) <= MAX_PLAIN_ESCAPE_STARTS;
  const chars = [...text].map((char) => characterPattern(char, escapeStartsAsIs));
  const encoded = {
    source: chars.map((char) => char.source).join(''),
    longest: chars.reduce((sum, char) => sum + char.longest, 0),
  };
  return escapeStartsAsIs ? [encoded] : [encoded, literal(text)];
}

function literal(text: string): Pattern {
  return { source: escapeRegExp(text), longest: text.length };
}

/** Every pattern a secret value may show up as in build output. */
function secretPatterns(value: string): Pattern[] {
  const lines = value.includes('\n') ? value.split(/\r?\n/) : [];
  return [value, ...lines]
    .filter((text) => text.length >= MIN_SECRET_LENGTH)
    .flatMap((text) => {
      const b64 = base64Forms(text);
      const literals = [
        ...b64,
        ...b64.map((form) => form.replaceAll('+', '-').replaceAll('/', '_')),
      ]
        .filter((form) => form.length >= MIN_SECRET_LENGTH)
        .map(literal);
      return [...encodedPatterns(text), ...literals];
    });
}

function compile(secrets: readonly string[]) {
  const patterns = [
    ...new Map(
      secrets.flatMap(secretPatterns).map((pattern) => [pattern.source, pattern]),
    ).values(),
  ];
  // The longest first: where one value starts another, the longer one is masked whole.
  patterns.sort((a, b) => b.longest - a.longest);
  return {
    pattern:
      patterns.length > 0
        ? new RegExp(patterns.map((pattern) => pattern.source).join('|'), 'g')
        : null,
    longest: patterns[0]?.longest ?? 0,
  };
}

/** Replaces every form of every secret in a piece of text. */
export function createMasker(secrets: readonly string[]): (text: string) => string {
  const { pattern } = compile(secrets);
  return (text) => (pattern ? text.replace(pattern, MASK) : text);
}

/**
 * Masks a stream that arrives in arbitrary chunks: output is released a line at a time, so a
 * secret split across two chunks is whole again before it is matched. A line longer than
 * `maxPending` is released anyway, keeping back enough characters that a secret cut there is
 * still whole in what remains.
 */
export class StreamMasker {
  private pending = '';
  private readonly pattern: RegExp | null;
  private readonly holdBack: number;

  constructor(
    secrets: readonly string[],
    private readonly maxPending = 64 * 1024,
  ) {
    const compiled = compile(secrets);
    this.pattern = compiled.pattern;
    this.holdBack = Math.max(0, compiled.longest - 1);
  }

  /** Masked text that is safe to release now. */
  push(chunk: string): string {
    this.pending += chunk;
    const lineEnd = this.pending.lastIndexOf('\n') + 1;
    if (lineEnd > 0) return this.release(lineEnd);
    if (this.pending.length <= this.maxPending + this.holdBack) return '';
    let cut = this.pending.length - this.holdBack;
    // A complete match across the cut goes out whole; an incomplete one is shorter than the
    // held-back tail, so it cannot start before the cut.
    for (const match of this.pattern ? this.pending.matchAll(this.pattern) : []) {
      const end = match.index + match[0].length;
      if (match.index < cut && end > cut) cut = end;
    }
    return this.release(cut);
  }

  /** Whatever is left, at the end of the stream. */
  flush(): string {
    return this.release(this.pending.length);
  }

  private release(end: number): string {
    const text = this.pending.slice(0, end);
    this.pending = this.pending.slice(end);
    return this.pattern ? text.replace(this.pattern, MASK) : text;
  }
}
