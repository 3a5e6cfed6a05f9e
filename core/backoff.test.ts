import { describe, expect, it } from 'vitest';
import { retryDelaySeconds } from './backoff';

describe('retryDelaySeconds', () => {
  it('doubles with each attempt', () => {
    expect([1, 2, 3, 4].map(retryDelaySeconds)).toEqual([2, 4, 8, 16]);
  });

  it('never waits less than the first step or more than five minutes', () => {
    expect(retryDelaySeconds(0)).toBe(2);
    expect(retryDelaySeconds(30)).toBe(300);
  });
});
