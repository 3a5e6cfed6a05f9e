import { describe, expect, it } from 'vitest';
import {
  displayCommitMessage,
  isCommitSha,
  isZeroSha,
  MAX_COMMIT_MESSAGE_CHARS,
  MAX_REF_BYTES,
  refNameProblem,
  shortRefProblem,
} from './refs';

describe('commit shas', () => {
  it('takes 40 (SHA-1) or 64 (SHA-256) hex digits and nothing else', () => {
    expect(isCommitSha('6113728f27ae82c7b1a177c8d03f9e96e0adf246')).toBe(true);
    expect(isCommitSha('a'.repeat(64))).toBe(true);
    expect(isCommitSha('6113728F27AE82C7B1A177C8D03F9E96E0ADF246')).toBe(true);
    for (const text of ['', 'HEAD', 'a'.repeat(39), 'a'.repeat(41), 'a'.repeat(63), 'g'.repeat(40)])
      expect(isCommitSha(text), text).toBe(false);
    expect(isCommitSha(`${'a'.repeat(40)}\n`)).toBe(false);
  });

  it('knows the all-zeros sha of a deleted ref', () => {
    expect(isZeroSha('0'.repeat(40))).toBe(true);
    expect(isZeroSha('0'.repeat(64))).toBe(true);
    expect(isZeroSha('')).toBe(false);
    expect(isZeroSha('0')).toBe(false);
  });
});

describe('ref names (git check-ref-format)', () => {
  it('accepts what git accepts', () => {
    for (const ref of [
      'refs/heads/main',
      'refs/heads/feature/login-form',
      'refs/tags/v1.2.3',
      'refs/heads/fix_#12',
      'refs/heads/ünïcode',
      'refs/heads/a.b',
      'refs/heads/@',
    ])
      expect(refNameProblem(ref), ref).toBeNull();
  });

  it.each([
    ['', 'is empty'],
    ['main', 'has no "/"'],
    ['refs/heads/ma\u0000in', 'control character'],
    ['refs/heads/new\nline', 'control character'],
    ['refs/heads/del\u007f', 'control character'],
    ['refs/heads/with space', 'a space'],
    ['refs/heads/a~1', '~'],
    ['refs/heads/a^', '^'],
    ['refs/heads/a:b', ':'],
    ['refs/heads/a?', '?'],
    ['refs/heads/a*', '*'],
    ['refs/heads/a[b', '['],
    ['refs/heads/a\\b', '\\'],
    ['refs/heads/a..b', '".."'],
    ['refs/heads/a@{1}', '"@{"'],
    ['@', 'is "@"'],
    ['refs/heads/a.', 'ends with "."'],
    ['refs/heads/a/', '"/"'],
    ['/refs/heads/a', '"/"'],
    ['refs/heads//a', '"//"'],
    ['refs/heads/.hidden', 'starting with "."'],
    ['refs/heads/a/.b', 'starting with "."'],
    ['refs/heads/main.lock', '".lock"'],
    ['refs/heads/main.lock/x', '".lock"'],
    ['refs/heads/\ud800', 'Unicode'],
  ])('refuses %j', (ref, reason) => {
    expect(refNameProblem(ref)).toContain(reason);
  });

  it(`caps a ref at ${MAX_REF_BYTES} bytes of UTF-8`, () => {
    const prefix = 'refs/heads/';
    expect(refNameProblem(prefix + 'a'.repeat(MAX_REF_BYTES - prefix.length))).toBeNull();
    expect(refNameProblem(prefix + 'a'.repeat(MAX_REF_BYTES - prefix.length + 1))).toContain(
      'bytes',
    );
    // Two bytes each in UTF-8: the cap counts bytes, not characters.
    expect(refNameProblem(prefix + 'é'.repeat(MAX_REF_BYTES / 2))).toContain('bytes');
  });

  it('refuses a branch or tag name that a git command would read as an option', () => {
    expect(shortRefProblem('heads', '--upload-pack=touch /tmp/x')).toContain('"-"');
    expect(shortRefProblem('tags', '-v1')).toContain('"-"');
    expect(shortRefProblem('heads', 'feature/-x')).toBeNull();
    expect(shortRefProblem('heads', 'main')).toBeNull();
    expect(shortRefProblem('heads', 'a..b')).toContain('".."');
  });
});

describe('commit messages', () => {
  it('keeps text, tabs and newlines, and replaces other control characters', () => {
    expect(displayCommitMessage('Fix it\n\n\tdetails')).toBe('Fix it\n\n\tdetails');
    expect(displayCommitMessage('a\u0000b\u001b[31mc\u007f')).toBe('a\ufffdb\ufffd[31mc\ufffd');
  });

  it(`cuts at ${MAX_COMMIT_MESSAGE_CHARS} characters without leaving half a surrogate pair`, () => {
    const cut = displayCommitMessage(`${'a'.repeat(MAX_COMMIT_MESSAGE_CHARS - 1)}😀 and more`);
    expect(cut).toHaveLength(MAX_COMMIT_MESSAGE_CHARS);
    expect(cut.endsWith('\ufffd')).toBe(true);
  });
});
