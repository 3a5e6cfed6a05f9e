import { Secret, TOTP } from 'otpauth';

// RFC 6238 defaults (SHA-1, 6 digits, 30 s): the only parameters every authenticator app honours.
export const TOTP_ISSUER = 'Sparki';
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Codes from one step before or after now are accepted, for clock drift and typing time. */
export const TOTP_WINDOW = 1;
/** 160 bits, the HMAC-SHA-1 block-size recommendation of RFC 4226. */
export const TOTP_SECRET_BYTES = 20;

function totp(secretBase32: string, label = '') {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

export function newTotpSecret(): string {
  return new Secret({ size: TOTP_SECRET_BYTES }).base32;
}

/** The `otpauth://totp/…` URI an authenticator app reads from a QR code. */
export function totpUri(secretBase32: string, label: string): string {
  return totp(secretBase32, label).toString();
}

/**
 * The time step `code` belongs to when it is valid within the window around `now`, else null.
 * Callers keep the last accepted step so a code cannot be used twice.
 */
export function matchTotpStep(secretBase32: string, code: string, now = Date.now()): number | null {
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(code)) return null;
  const generator = totp(secretBase32);
  const delta = generator.validate({ token: code, timestamp: now, window: TOTP_WINDOW });
  return delta === null ? null : generator.counter({ timestamp: now }) + delta;
}
