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

function xmlEscape(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** Every form in which a secret value may show up in build output. */
export function secretForms(value: string): string[] {
  const lines = value.includes('\n') ? value.split(/\r?\n/) : [];
  const forms = [value, ...lines].flatMap((text) => {
    const b64 = base64Forms(text);
    return [
      text,
      JSON.stringify(text).slice(1, -1),
      encodeURIComponent(text),
      encodeURIComponent(text).replaceAll('%20', '+'),
      xmlEscape(text),
      ...b64,
      ...b64.map((form) => form.replaceAll('+', '-').replaceAll('/', '_')),
    ];
  });
  return [...new Set(forms)].filter((form) => form.length >= MIN_SECRET_LENGTH);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile(secrets: readonly string[]) {
  const forms = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  return {
    pattern: forms.length > 0 ? new RegExp(forms.map(escapeRegExp).join('|'), 'g') : null,
    longest: forms[0]?.length ?? 0,
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
