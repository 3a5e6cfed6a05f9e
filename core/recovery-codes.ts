// Crockford's base32 alphabet: no i, l, o or u, so a code read aloud or copied by hand survives.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const GROUP = 4;

export const RECOVERY_CODE_COUNT = 10;
/** 16 symbols of 5 bits: 80 bits, enough that a fast hash of the code is safe to store. */
export const RECOVERY_CODE_LENGTH = 16;

/** One code, shown grouped (`7k2m-q9xd-…`); 256 is a multiple of 32, so `& 31` has no bias. */
export function generateRecoveryCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(RECOVERY_CODE_LENGTH));
  const symbols = [...bytes].map((byte) => ALPHABET[byte & 31]).join('');
  return symbols.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-');
}

/**
 * The canonical form that is hashed: case, separators and the look-alikes Crockford decodes
 * (i, l → 1; o → 0) do not matter. Null when the input cannot be a recovery code.
 */
export function normalizeRecoveryCode(input: string): string | null {
  const canonical = input
    .toLowerCase()
    .replace(/[\s-]/g, '')
    .replace(/[il]/g, '1')
    .replace(/o/g, '0');
  if (canonical.length !== RECOVERY_CODE_LENGTH) return null;
  return [...canonical].every((char) => ALPHABET.includes(char)) ? canonical : null;
}
