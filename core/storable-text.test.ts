import { describe, expect, it } from 'vitest';
import {
  findUnstorableText,
  isStorableText,
  toStorableText,
  UNSTORABLE_TEXT_REPORT_MAX,
} from './storable-text';

describe('text Postgres can store', () => {
  it('refuses U+0000 and unpaired surrogates, and only those', () => {
    expect(isStorableText('tab\there, 🚀, ü, \u0001, \uffff')).toBe(true);
    for (const bad of ['a\u0000b', 'a\ud83d', '\ude80a', '\ude80\ud83d', 'ok🚀\ud800']) {
      expect(isStorableText(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('keeps what it can of text worth keeping', () => {
    expect(toStorableText('a\u0000b\ud83d🚀\ude80')).toBe('a\ufffdb\ufffd🚀\ufffd');
    expect(toStorableText('🚀')).toBe('🚀');
  });

  it('names each bad string and object key by its path', () => {
    expect(
      findUnstorableText({
        name: 'ok',
        tags: ['fine', 'x\u0000'],
        nested: { 'k\u0000': 'value', deeper: [{ v: '\ud800' }] },
        count: 3,
        at: new Date(0),
      }).map((issue) => issue.path),
    ).toEqual([
      ['tags', 1],
      ['nested', 'k\u0000'],
      ['nested', 'deeper', 0, 'v'],
    ]);
    expect(findUnstorableText('\u0000')).toEqual([
      { path: [], message: expect.any(String), code: 'unstorable_text' },
    ]);
    expect(findUnstorableText({ a: ['b', { c: 1 }], d: null })).toEqual([]);
  });

  it('walks nesting deeper than the call stack and answers a flood with a few issues', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(findUnstorableText(deep)[0]?.path).toHaveLength(200_000);
    const flood = findUnstorableText(Array.from({ length: 100_000 }, () => '\u0000'));
    expect(flood).toHaveLength(UNSTORABLE_TEXT_REPORT_MAX);
    expect(flood[0]?.path).toEqual([0]);
  });
});
