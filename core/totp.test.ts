import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { matchTotpStep, newTotpSecret, TOTP_PERIOD_SECONDS, totpUri } from './totp';

// RFC 6238 appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const RFC_SECRET = Secret.fromLatin1('12345678901234567890').base32;

describe('totp', () => {
  it('matches the RFC 6238 test vectors (last six digits) and reports their time step', () => {
    expect(matchTotpStep(RFC_SECRET, '287082', 59_000)).toBe(1);
    expect(matchTotpStep(RFC_SECRET, '081804', 1_111_111_109_000)).toBe(37_037_036);
    expect(matchTotpStep(RFC_SECRET, '005924', 1_234_567_890_000)).toBe(41_152_263);
  });

  it('accepts one step of drift either way and nothing further', () => {
    const secret = newTotpSecret();
    const now = 1_700_000_000_000;
    const step = Math.floor(now / 1000 / TOTP_PERIOD_SECONDS);
    const at = (offset: number) =>
      TOTP.generate({
        secret: Secret.fromBase32(secret),
        timestamp: now + offset * TOTP_PERIOD_SECONDS * 1000,
      });
    expect(matchTotpStep(secret, at(0), now)).toBe(step);
    expect(matchTotpStep(secret, at(-1), now)).toBe(step - 1);
    expect(matchTotpStep(secret, at(1), now)).toBe(step + 1);
    expect(matchTotpStep(secret, at(2), now)).toBeNull();
    expect(matchTotpStep(secret, at(-2), now)).toBeNull();
  });

  it('refuses malformed codes without computing anything', () => {
    const secret = newTotpSecret();
    expect(matchTotpStep(secret, '12345')).toBeNull();
    expect(matchTotpStep(secret, '12345a')).toBeNull();
    expect(matchTotpStep(secret, ' 123456')).toBeNull();
  });

  it('builds an authenticator URI with issuer, label and a 160-bit secret', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(totpUri(secret, 'ada@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Sparki:ada@example.com');
    expect(uri.searchParams.get('issuer')).toBe('Sparki');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('period')).toBe('30');
    expect(uri.searchParams.get('digits')).toBe('6');
  });
});
