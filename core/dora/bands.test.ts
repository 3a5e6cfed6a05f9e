import { describe, expect, it } from 'vitest';
import {
  changeFailRateBand,
  deploymentFrequencyBand,
  leadTimeBand,
  recoveryTimeBand,
} from './bands';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('DORA bands', () => {
  it('ranks deployment frequency: daily or more, weekly, monthly, less', () => {
    expect(deploymentFrequencyBand(1, 30)).toBe('elite');
    expect(deploymentFrequencyBand(0.99, 29)).toBe('high');
    expect(deploymentFrequencyBand(1 / 7, 1)).toBe('high');
    expect(deploymentFrequencyBand(1 / 8, 1)).toBe('medium');
    expect(deploymentFrequencyBand(1 / 30, 1)).toBe('medium');
    expect(deploymentFrequencyBand(1 / 31, 1)).toBe('low');
    expect(deploymentFrequencyBand(0, 0)).toBeNull();
  });

  it('ranks lead time: under a day, a week, a month, more', () => {
    expect(leadTimeBand(DAY - 1)).toBe('elite');
    expect(leadTimeBand(DAY)).toBe('high');
    expect(leadTimeBand(7 * DAY)).toBe('medium');
    expect(leadTimeBand(30 * DAY)).toBe('low');
    expect(leadTimeBand(null)).toBeNull();
  });

  it('ranks change fail rate with 5 %, 10 % and 15 % as upper bounds', () => {
    expect(changeFailRateBand(0)).toBe('elite');
    expect(changeFailRateBand(0.05)).toBe('elite');
    expect(changeFailRateBand(0.1)).toBe('high');
    expect(changeFailRateBand(0.15)).toBe('medium');
    expect(changeFailRateBand(0.16)).toBe('low');
    expect(changeFailRateBand(null)).toBeNull();
  });

  it('ranks recovery time: under an hour, a day, a week, more', () => {
    expect(recoveryTimeBand(HOUR - 1)).toBe('elite');
    expect(recoveryTimeBand(HOUR)).toBe('high');
    expect(recoveryTimeBand(DAY)).toBe('medium');
    expect(recoveryTimeBand(7 * DAY)).toBe('low');
    expect(recoveryTimeBand(null)).toBeNull();
  });
});
