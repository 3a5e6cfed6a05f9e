import { describe, expect, it } from 'vitest';
import { isFixChange } from './records';
import { resolveWindow } from './window';

const NOW = Date.parse('2026-03-31T12:00:00Z');
const DAY = 86_400_000;

describe('resolveWindow', () => {
  it('defaults to the last 30 days and takes 7d and 90d', () => {
    expect(resolveWindow({}, NOW)).toEqual({ window: { from: NOW - 30 * DAY, to: NOW } });
    expect(resolveWindow({ window: '7d' }, NOW)).toEqual({
      window: { from: NOW - 7 * DAY, to: NOW },
    });
    expect(resolveWindow({ window: '90d' }, NOW)).toEqual({
      window: { from: NOW - 90 * DAY, to: NOW },
    });
  });

  it('takes from and to together, in order, over at most 366 days', () => {
    const from = '2026-01-01T00:00:00Z';
    const to = '2026-02-01T00:00:00Z';
    expect(resolveWindow({ from, to }, NOW)).toEqual({
      window: { from: Date.parse(from), to: Date.parse(to) },
    });
    expect(resolveWindow({ from }, NOW)).toEqual({ problem: 'from and to go together' });
    expect(resolveWindow({ from: to, to: from }, NOW)).toEqual({
      problem: 'from must be before to',
    });
    expect(resolveWindow({ window: '7d', from, to }, NOW)).toMatchObject({
      problem: expect.any(String),
    });
    expect(resolveWindow({ from: '2024-01-01T00:00:00Z', to }, NOW)).toEqual({
      problem: 'A window spans at most 366 days',
    });
  });
});

describe('isFixChange', () => {
  it('knows reverts, hotfixes and hotfix branches, and nothing else', () => {
    expect(
      isFixChange({ commitMessage: 'Revert "Add cart"\n\nThis reverts…', branch: 'main' }),
    ).toBe(true);
    expect(isFixChange({ commitMessage: 'hotfix: tax', branch: 'main' })).toBe(true);
    expect(
      isFixChange({ commitMessage: 'Merge pull request #4 from acme/hot-fix-tax', branch: 'main' }),
    ).toBe(true);
    expect(isFixChange({ commitMessage: 'Add cart', branch: 'hotfix/tax' })).toBe(true);
    expect(isFixChange({ commitMessage: 'fix: typo in footer', branch: 'main' })).toBe(false);
    expect(isFixChange({ commitMessage: 'Add cart\n\nrevert later, hotfix', branch: 'main' })).toBe(
      false,
    );
    expect(isFixChange({ commitMessage: null, branch: null })).toBe(false);
  });
});
