import { describe, expect, it } from 'vitest';
import { createMasker, MASK, StreamMasker } from './secret-masker';

const SECRET = 'hunter2-s3cr3t/value+&<"x">';

/** Values with every character some encoder treats specially. */
const VALUES = [
  SECRET,
  'pä$$/wörd+=',
  `it's "quoted" \\back\\slash`,
  `a/b\\c"d'e+f=g h`,
  '🔑emoji/key+=😀',
  'tab\there~(!)*',
  '100%_sure%2F/',
];

function b64(text: string) {
  return Buffer.from(text).toString('base64');
}

/** \uXXXX for every UTF-16 unit `selected`, in the hex case given. */
function unicodeEscapes(text: string, selected: (unit: number) => boolean, upper = false) {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const hex = unit.toString(16).padStart(4, '0');
    out += selected(unit) ? `\\u${upper ? hex.toUpperCase() : hex}` : text[i];
  }
  return out;
}

const json = (text: string) => JSON.stringify(text).slice(1, -1);
const nonAscii = (unit: number) => unit > 0x7e;
const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (byte) => byte.toLowerCase());
const alnum = /^[A-Za-z0-9]$/;

/**
 * Independent encoders, each as a real library or language writes a string (without the
 * surrounding quotes where there are any).
 */
const FORMS: Record<string, (text: string) => string> = {
  plain: (text) => text,
  'JSON (JavaScript)': json,
  'JSON with escaped slashes and \\u escapes (PHP json_encode)': (text) =>
    unicodeEscapes(json(text).replaceAll('/', '\\/'), nonAscii),
  'JSON with escaped slashes only (PHP, JSON_UNESCAPED_UNICODE)': (text) =>
    json(text).replaceAll('/', '\\/'),
  'JSON, ASCII only (Python json.dumps)': (text) => unicodeEscapes(json(text), nonAscii),
  'JSON, upper-case \\u escapes': (text) => unicodeEscapes(json(text), nonAscii, true),
  'JSON, HTML-safe (Go encoding/json)': (text) =>
    unicodeEscapes(json(text), (unit) => '<>&'.includes(String.fromCharCode(unit))),
  'JSON, every character but letters and digits as \\u': (text) =>
    unicodeEscapes(text, (unit) => !alnum.test(String.fromCharCode(unit))),
  encodeURIComponent: encodeURIComponent,
  'percent-encoding, lower-case hex': (text) => lowerHex(encodeURIComponent(text)),
  'percent-encoding, hex case mixed byte by byte': (text) =>
    encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, (byte) =>
      byte === byte.toLowerCase() ? byte : `%${byte[1]}${byte[2]!.toLowerCase()}`,
    ),
  'percent-encoding, every byte but letters and digits (RFC 3986 strict)': (text) =>
    [...text]
      .map((char) =>
        alnum.test(char)
          ? char
          : [...Buffer.from(char)]
              .map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`)
              .join(''),
      )
      .join(''),
  'form encoding (URLSearchParams)': (text) => new URLSearchParams({ v: text }).toString().slice(2),
  'form encoding, lower-case hex (.NET HttpUtility.UrlEncode)': (text) =>
    lowerHex(new URLSearchParams({ v: text }).toString().slice(2)),
  'encodeURI (slashes, + and = left alone)': encodeURI,
  'XML escaped': (text) =>
    text
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&apos;'),
  'HTML escaped (PHP htmlspecialchars with ENT_QUOTES)': (text) =>
    text
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&#039;'),
  'numeric character references, decimal and hex': (text) =>
    [...text]
      .map((char, i) => {
        if (alnum.test(char)) return char;
        const code = char.codePointAt(0)!;
        return i % 2 ? `&#${code};` : `&#x${code.toString(16)};`;
      })
      .join(''),
};

describe('secret masking', () => {
  const mask = createMasker([SECRET]);

  it('masks the plain value wherever it appears', () => {
    expect(mask(`token=${SECRET} and again ${SECRET}`)).toBe(`token=${MASK} and again ${MASK}`);
  });

  describe.each(VALUES)('the value %j', (value) => {
    const mask = createMasker([value]);

    it.each(Object.keys(FORMS))('is masked as a whole in the form: %s', (name) => {
      const form = FORMS[name]!(value);
      expect(mask(`before "${form}" after`)).toBe(`before "${MASK}" after`);
    });

    it('is masked in its base64 forms, also inside a longer base64 string at any byte offset', () => {
      const urlSafe = (text: string) => text.replaceAll('+', '-').replaceAll('/', '_');
      for (const encode of [b64, (text: string) => urlSafe(b64(text))]) {
        for (const prefix of ['', 'a', 'ab', 'abc', 'user:']) {
          const masked = mask(encode(`${prefix}${value}!`));
          expect(masked, `prefix "${prefix}"`).toContain(MASK);
          // What survives cannot be decoded back to the value.
          expect(Buffer.from(masked.replace(MASK, ''), 'base64').toString()).not.toContain(value);
        }
      }
    });
  });

  it('masks every line of a multi-line value, and the whole value JSON-escaped', () => {
    const key = '-----BEGIN KEY-----\nMIIEabcd/efghijkl\nmnopqrstuvwxyz01\n-----END KEY-----';
    const mask = createMasker([key]);
    expect(mask('line: MIIEabcd/efghijkl\nnext: mnopqrstuvwxyz01\n')).toBe(
      `line: ${MASK}\nnext: ${MASK}\n`,
    );
    expect(mask(JSON.stringify({ key }).replaceAll('/', '\\/'))).toBe(`{"key":"${MASK}"}`);
    expect(mask(`?key=${lowerHex(encodeURIComponent(key))}`)).toBe(`?key=${MASK}`);
  });

  it('masks only what decodes to the value: case and near misses are left alone', () => {
    const mask = createMasker(['pä$$/wörd+=']);
    const near = [
      'PÄ$$/WÖRD+=',
      'pä$$/wörd+-',
      'pä$$%2gwörd+=',
      'p\\u00e5$$/wörd+=',
      'pä$$&#48;wörd+=',
      'pä$$\\\\/wörd+=',
    ];
    for (const text of near) expect(mask(text)).toBe(text);
  });

  it('keeps the work bounded for a value full of escape characters', () => {
    // Unbounded, each backslash could match one way or two, and this text would take hours
    // of backtracking to fail.
    const value = `${'\\'.repeat(32)}x`;
    const mask = createMasker([value]);
    const near = `${'\\'.repeat(64)}y`;
    expect(mask(near)).toBe(near);
    expect(mask(`<${value}>`)).toBe(`<${MASK}>`);
    expect(mask(JSON.stringify(value))).toBe(`"${MASK}"`);
    expect(mask(lowerHex(encodeURIComponent(value)))).toBe(MASK);
  });

  it('leaves output alone when there are no secrets or they are too short to mask', () => {
    expect(createMasker([])('nothing to hide')).toBe('nothing to hide');
    expect(createMasker(['ab'])('abc')).toBe('abc');
    expect(createMasker(['a/'])('a%2f a\\/')).toBe('a%2f a\\/');
  });

  it('masks the longest of two values that start alike', () => {
    const mask = createMasker(['abcd/', 'abcd/efgh']);
    expect(mask('x abcd\\/efgh y abcd%2f z')).toBe(`x ${MASK} y ${MASK} z`);
  });
});

describe('StreamMasker', () => {
  it('masks a secret split across two chunks', () => {
    const stream = new StreamMasker([SECRET]);
    const out =
      stream.push(`echo ${SECRET.slice(0, 7)}`) +
      stream.push(`${SECRET.slice(7)} done\n`) +
      stream.flush();
    expect(out).toBe(`echo ${MASK} done\n`);
  });

  it.each(VALUES)('masks %j in every form, split across two chunks anywhere', (value) => {
    for (const [name, encode] of Object.entries(FORMS)) {
      const line = `before ${encode(value)} after\n`;
      for (let cut = 1; cut < line.length; cut++) {
        const stream = new StreamMasker([value]);
        const out = stream.push(line.slice(0, cut)) + stream.push(line.slice(cut)) + stream.flush();
        expect(out, `${name}, cut at ${cut}`).toBe(`before ${MASK} after\n`);
      }
    }
  });

  it.each(VALUES)('masks %j in every form in an endless line released in parts', (value) => {
    for (const [name, encode] of Object.entries(FORMS)) {
      const stream = new StreamMasker([value], 8);
      let out = '';
      for (const char of `${'x'.repeat(20)}${encode(value)}${'y'.repeat(400)}`) {
        out += stream.push(char);
      }
      expect(out.length, `${name}: nothing released before the end`).toBeGreaterThan(0);
      out += stream.flush();
      expect(out, name).toBe(`${'x'.repeat(20)}${MASK}${'y'.repeat(400)}`);
    }
  });

  it('releases complete lines at once and keeps a partial line until it ends', () => {
    const stream = new StreamMasker([SECRET]);
    expect(stream.push('first line\nsecond')).toBe('first line\n');
    expect(stream.push(' line\n')).toBe('second line\n');
    expect(stream.flush()).toBe('');
  });
});
