import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff';

const options = { initialMs: 100, maxMs: 1_000 };

describe('backoffDelayMs', () => {
  it('doubles the window with each failure, up to the maximum', () => {
    const top = [0, 1, 2, 3, 4, 10].map((attempt) => backoffDelayMs(attempt, options, () => 1));
    expect(top).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('draws from the upper half of the window', () => {
    expect(backoffDelayMs(2, options, () => 0)).toBe(200);
    expect(backoffDelayMs(2, options, () => 0.5)).toBe(300);
  });
});
