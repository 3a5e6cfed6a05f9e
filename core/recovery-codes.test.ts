import { describe, expect, it } from 'vitest';
import {
  generateRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_LENGTH,
} from './recovery-codes';

describe('recovery codes', () => {
  it('are 16 Crockford base32 symbols in groups of four, and differ each time', () => {
    const codes = new Set(Array.from({ length: 50 }, generateRecoveryCode));
    expect(codes.size).toBe(50);
    for (const code of codes)
      expect(code).toMatch(/^([0-9a-hjkmnp-tv-z]{4}-){3}[0-9a-hjkmnp-tv-z]{4}$/);
  });

  it('normalise case, separators and look-alike letters to the stored form', () => {
    const code = generateRecoveryCode();
    const canonical = normalizeRecoveryCode(code);
    expect(canonical).toHaveLength(RECOVERY_CODE_LENGTH);
    expect(normalizeRecoveryCode(` ${code.toUpperCase().replaceAll('-', ' ')} `)).toBe(canonical);
    expect(normalizeRecoveryCode('IL0O-abcd-efgh-jkmn')).toBe('1100abcdefghjkmn');
  });

  it('reject what cannot be a code', () => {
    expect(normalizeRecoveryCode('abcd-efgh-jkmn')).toBeNull();
    expect(normalizeRecoveryCode('abcd-efgh-jkmn-pqru')).toBeNull();
    expect(normalizeRecoveryCode('')).toBeNull();
  });
});
