import { describe, expect, it } from 'vitest';
import { createMasker, MASK, StreamMasker } from './secret-masker';

const SECRET = 'hunter2-s3cr3t/value+&<"x">';

function b64(text: string) {
  return Buffer.from(text).toString('base64');
}

describe('secret masking', () => {
  const mask = createMasker([SECRET]);

  it('masks the plain value wherever it appears', () => {
    expect(mask(`token=${SECRET} and again ${SECRET}`)).toBe(`token=${MASK} and again ${MASK}`);
  });

  it('masks the base64 form, also inside a longer base64 string at every byte offset', () => {
    expect(mask(b64(SECRET))).not.toContain(b64(SECRET).slice(4, 20));
    for (const prefix of ['', 'a', 'ab', 'abc', 'user:']) {
      const encoded = b64(`${prefix}${SECRET}`);
      const masked = mask(encoded);
      expect(masked, `prefix "${prefix}"`).toContain(MASK);
      // What survives cannot be decoded back to the secret.
      expect(Buffer.from(masked.replace(MASK, ''), 'base64').toString()).not.toContain(SECRET);
    }
    const urlSafe = b64(`xy${SECRET}`).replaceAll('+', '-').replaceAll('/', '_');
    expect(mask(urlSafe)).toContain(MASK);
  });

  it('masks JSON-, URL- and XML-escaped forms', () => {
    expect(mask(JSON.stringify({ v: SECRET }))).toBe(`{"v":"${MASK}"}`);
    expect(mask(`?v=${encodeURIComponent(SECRET)}`)).toBe(`?v=${MASK}`);
    const xml = SECRET.replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;');
    expect(mask(`<v>${xml}</v>`)).toBe(`<v>${MASK}</v>`);
  });

  it('masks each line of a multi-line secret', () => {
    const key = '-----BEGIN KEY-----\nMIIEabcdefghijkl\nmnopqrstuvwxyz01\n-----END KEY-----';
    const masked = createMasker([key])('line: MIIEabcdefghijkl\nnext: mnopqrstuvwxyz01\n');
    expect(masked).toBe(`line: ${MASK}\nnext: ${MASK}\n`);
  });

  it('leaves output alone when there are no secrets or they are too short to mask', () => {
    expect(createMasker([])('nothing to hide')).toBe('nothing to hide');
    expect(createMasker(['ab'])('abc')).toBe('abc');
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

  it('releases complete lines at once and keeps a partial line until it ends', () => {
    const stream = new StreamMasker([SECRET]);
    expect(stream.push('first line\nsecond')).toBe('first line\n');
    expect(stream.push(' line\n')).toBe('second line\n');
    expect(stream.flush()).toBe('');
  });

  it('releases an endless line in parts without letting a secret through at the cut', () => {
    const stream = new StreamMasker([SECRET], 16);
    let out = '';
    const text = `${'x'.repeat(20)}${SECRET}${'y'.repeat(40)}`;
    for (const char of text) out += stream.push(char);
    expect(out.length).toBeGreaterThan(0);
    out += stream.flush();
    expect(out).toBe(`${'x'.repeat(20)}${MASK}${'y'.repeat(40)}`);
  });
});
