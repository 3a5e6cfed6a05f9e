import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asksCleartextPassword } from '../../dev/postgres';

/**
 * Whether the local stack lets its clients send the password unasked (NEON_PIPELINE_CONNECT):
 * only when every host line of the cluster asks a cleartext one. A cluster made before that
 * choice asks SCRAM, and a client sending its password unasked would be refused.
 */
describe('the embedded cluster’s authentication', () => {
  async function cluster(hba: string | null) {
    const dir = await mkdtemp(join(tmpdir(), 'sparki-hba-'));
    if (hba !== null) await writeFile(join(dir, 'pg_hba.conf'), hba);
    try {
      return await asksCleartextPassword(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('is cleartext only when every host line says password', async () => {
    const lines = (method: string) =>
      [
        '# TYPE  DATABASE        USER            ADDRESS                 METHOD',
        `local   all             all                                     ${method}`,
        `host    all             all             127.0.0.1/32            ${method}`,
        `host    all             all             ::1/128                 ${method}`,
        `hostssl all             all             10.0.0.0 255.0.0.0      ${method}`,
      ].join('\n');
    expect(await cluster(lines('password'))).toBe(true);
    expect(await cluster(lines('scram-sha-256'))).toBe(false);
    expect(await cluster(lines('trust'))).toBe(false);
    expect(await cluster(`${lines('password')}\nhost all all 0.0.0.0/0 md5`)).toBe(false);
    expect(await cluster('# nothing but comments')).toBe(false);
    expect(await cluster(null)).toBe(false);
  });
});
