import { describe, expect, it } from 'vitest';
import { safeReturnPath } from './return-to';

const ORIGIN = 'https://sparki.example';

describe('safeReturnPath', () => {
  it('keeps a same-origin path with its query and fragment', () => {
    expect(safeReturnPath('/projects/web?tab=builds#latest', ORIGIN)).toBe(
      '/projects/web?tab=builds#latest',
    );
  });

  it.each([
    ['an absolute URL', 'https://evil.example/'],
    ['a protocol-relative URL', '//evil.example/x'],
    ['a backslash that browsers read as a slash', '/\\evil.example'],
    ['a relative path', 'projects'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a tab inside the authority', '/\t/evil.example'],
    ['a newline', '/a\nb'],
    ['nothing', undefined],
    ['an overlong value', `/${'a'.repeat(2048)}`],
  ])('refuses %s', (_label, candidate) => {
    expect(safeReturnPath(candidate, ORIGIN)).toBeUndefined();
  });
});
