import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rsaPrivateKeyToPkcs8 } from './pem';

describe('rsaPrivateKeyToPkcs8', () => {
  it('wraps a PKCS#1 key (as GitHub hands it over) into the same key as PKCS#8', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
    expect(rsaPrivateKeyToPkcs8(pkcs1)).toBe(pkcs8);
    expect(createPrivateKey(rsaPrivateKeyToPkcs8(pkcs1)).asymmetricKeyType).toBe('rsa');
  });

  it('keeps a PKCS#8 key and refuses anything else', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(rsaPrivateKeyToPkcs8(pkcs8)).toBe(pkcs8);
    expect(() => rsaPrivateKeyToPkcs8('not a key')).toThrow(/RSA PRIVATE KEY/);
  });
});
