import { describe, expect, it } from 'vitest';
import {
  hashPassword,
  PASSWORD_PARAMS,
  verifyAgainstDummy,
  verifyPassword,
} from '../../platform/password';

describe('password hashing (argon2id in workerd)', () => {
  it('verifies the right password and rejects a wrong one', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(hash).not.toContain('correct');
    expect(await verifyPassword('correct horse battery staple', hash)).toEqual({
      ok: true,
      needsRehash: false,
    });
    expect((await verifyPassword('correct horse battery stapler', hash)).ok).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it('flags hashes made with weaker parameters for rehashing', async () => {
    const weak = await hashPassword('pw', { ...PASSWORD_PARAMS, memorySize: 8192, passes: 1 });
    expect(weak).toContain('m=8192,t=1,p=1');
    expect(await verifyPassword('pw', weak)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword('wrong', weak)).toEqual({ ok: false, needsRehash: false });
  });

  it('verifies a hash made by an independent implementation (Node/OpenSSL argon2id)', async () => {
    // node -e "crypto.argon2Sync('argon2id', {message, nonce: 'sparki-test-salt', memory: 19456, passes: 2, parallelism: 1, tagLength: 32})"
    const openssl =
      '$argon2id$v=19$m=19456,t=2,p=1$c3BhcmtpLXRlc3Qtc2FsdA$etMBI9oSLxHeDzYFcWijrvRenlE9WpP3o9BymuIVxWc';
    expect((await verifyPassword('correct horse battery staple', openssl)).ok).toBe(true);
    expect((await verifyPassword('correct horse battery staplf', openssl)).ok).toBe(false);
  });

  it('rejects malformed stored hashes instead of throwing', async () => {
    expect(await verifyPassword('pw', 'plaintext')).toEqual({ ok: false, needsRehash: false });
    expect(await verifyPassword('pw', '$pbkdf2$whatever')).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it('spends a dummy verification for unknown accounts', async () => {
    await expect(verifyAgainstDummy('anything')).resolves.toBeUndefined();
  });
});
