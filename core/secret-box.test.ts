import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, generateEncryptionKey } from './secret-box';

describe('secret box', () => {
  it('round-trips and never repeats a ciphertext', async () => {
    const key = generateEncryptionKey();
    const a = await encryptSecret(key, 'JBSWY3DPEHPK3PXP');
    const b = await encryptSecret(key, 'JBSWY3DPEHPK3PXP');
    expect(a).not.toBe(b);
    expect(a).not.toContain('JBSWY3DPEHPK3PXP');
    expect(await decryptSecret(key, a)).toBe('JBSWY3DPEHPK3PXP');
  });

  it('refuses a tampered value or the wrong key', async () => {
    const key = generateEncryptionKey();
    const sealed = await encryptSecret(key, 'secret');
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`;
    await expect(decryptSecret(key, tampered)).rejects.toThrow();
    await expect(decryptSecret(generateEncryptionKey(), sealed)).rejects.toThrow();
  });

  it('rejects a key of the wrong size', async () => {
    await expect(encryptSecret('c2hvcnQ', 'x')).rejects.toThrow(/32 bytes/);
  });
});
