import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeEnvFile } from './env-file';

describe('writeEnvFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparki-env-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes values a dotenv parser reads back as they were, readable by the owner only', async () => {
    const vars = {
      JWT_SIGNING_KEYS: '[{"kty":"EC","crv":"P-256","d":"a#b=c"}]',
      DATABASE_URL: 'postgres://postgres:p@ss$word@127.0.0.1:5432/postgres?x=1&y=2',
      EMPTY: '',
      SPACED: '  two  words ',
    };
    const file = join(dir, 'dev.vars');
    await writeEnvFile(file, vars);
    expect(parseEnv(await readFile(file, 'utf8'))).toEqual(vars);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a value that would end its quotes or its line', async () => {
    const file = join(dir, 'dev.vars');
    await expect(writeEnvFile(file, { A: "it's" })).rejects.toThrow(/A holds a quote/);
    await expect(writeEnvFile(file, { B: 'two\nlines' })).rejects.toThrow(/B holds a quote/);
    await expect(writeEnvFile(file, { 'bad-name': 'x' })).rejects.toThrow(/Not an environment/);
  });
});
