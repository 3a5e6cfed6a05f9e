import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  credentialsPath,
  platformUrl,
  readCredentials,
  removeCredential,
  resolveTarget,
  saveCredential,
  signedInTarget,
} from './config';
import { EXIT } from './errors';
import { isolatedEnv, runSparki } from './spawn-sparki';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sparki-credentials-'));
  path = credentialsPath({ XDG_CONFIG_HOME: dir });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the credentials store', () => {
  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(credentialsPath({ XDG_CONFIG_HOME: '/x/config' })).toBe(
      '/x/config/sparki/credentials.json',
    );
    expect(credentialsPath({})).toBe(join(homedir(), '.config', 'sparki', 'credentials.json'));
  });

  it('writes the file readable by its owner only (0600), in a 0700 directory', async () => {
    await saveCredential('https://a.example', { token: 'spk_pat_a' }, path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(path))).mode & 0o777).toBe(0o700);
  });

  it('narrows a wider file it finds to 0600 when it rewrites it', async () => {
    await saveCredential('https://a.example', { token: 'spk_pat_a' }, path);
    await chmod(path, 0o644);
    await saveCredential('https://b.example', { token: 'spk_pat_b' }, path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('keeps one entry per platform URL, a trailing slash naming the same platform', async () => {
    await saveCredential('https://a.example', { token: 'spk_pat_a1' }, path);
    await saveCredential('https://b.example:8443/sparki/', { token: 'spk_pat_b' }, path);
    await saveCredential('https://a.example/', { token: 'spk_pat_a2' }, path);
    const file = await readCredentials(path);
    expect(Object.keys(file.platforms).sort()).toEqual([
      'https://a.example',
      'https://b.example:8443/sparki',
    ]);
    expect(file.platforms['https://a.example']?.token).toBe('spk_pat_a2');
    expect(file.default_url).toBe('https://a.example');

    expect(await removeCredential('https://a.example', path)).toMatchObject({
      token: 'spk_pat_a2',
    });
    const after = await readCredentials(path);
    expect(Object.keys(after.platforms)).toEqual(['https://b.example:8443/sparki']);
    expect(after.default_url).toBe('https://b.example:8443/sparki');
    expect(await removeCredential('https://a.example', path)).toBeUndefined();
  });

  it('reads a missing file as no credentials', async () => {
    expect(await readCredentials(path)).toEqual({ platforms: {} });
  });

  it('refuses a URL that is not http(s) as a usage error', () => {
    expect(() => platformUrl('ftp://x')).toThrow(expect.objectContaining({ exitCode: EXIT.usage }));
    expect(() => platformUrl('nope')).toThrow(expect.objectContaining({ exitCode: EXIT.usage }));
  });
});

describe('resolving the platform and token of a command', () => {
  it('takes --token over SPARKI_TOKEN over the stored token, and --url over SPARKI_URL', async () => {
    await saveCredential('https://a.example', { token: 'stored' }, path);
    const env = { XDG_CONFIG_HOME: dir };
    expect(await resolveTarget({}, env, path)).toEqual({
      url: 'https://a.example',
      token: 'stored',
      source: 'credentials',
    });
    expect(await resolveTarget({}, { ...env, SPARKI_TOKEN: 'from-env' }, path)).toMatchObject({
      token: 'from-env',
      source: 'env',
    });
    expect(
      await resolveTarget({ token: 'flag' }, { ...env, SPARKI_TOKEN: 'from-env' }, path),
    ).toMatchObject({ token: 'flag', source: 'flag' });
    expect(await resolveTarget({}, { ...env, SPARKI_URL: 'https://b.example/' }, path)).toEqual({
      url: 'https://b.example',
      token: undefined,
      source: 'none',
    });
    expect(
      await resolveTarget(
        { url: 'https://a.example/' },
        { ...env, SPARKI_URL: 'https://b.example' },
        path,
      ),
    ).toMatchObject({ url: 'https://a.example', token: 'stored' });
  });

  it('is a usage error (2) without any platform, and needs input (4) when not signed in', async () => {
    await expect(resolveTarget({}, {}, path)).rejects.toMatchObject({ exitCode: EXIT.usage });
    await expect(signedInTarget({ url: 'https://a.example' }, {}, path)).rejects.toMatchObject({
      exitCode: EXIT.needsInput,
      message: /sparki login --url/,
    });
  });
});

function sparki(...args: string[]) {
  return runSparki(args, { env: isolatedEnv(dir) });
}

describe('sparki whoami, login and logout without a platform', () => {
  it('exits 2 (usage) when no platform is named, with nothing on stdout', async () => {
    const { code, stdout, stderr } = await sparki('whoami', '--json');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: which platform\? Pass --url/);
  });

  it('exits 4 (needs input) when not signed in, rather than asking', async () => {
    const { code, stderr } = await sparki('whoami', '--url', 'http://127.0.0.1:9');
    expect(code).toBe(4);
    expect(stderr).toContain('not signed in to http://127.0.0.1:9');
  });

  it('exits 1 with the reason when the platform cannot be reached', async () => {
    const { code, stderr } = await sparki('whoami', '--url', 'http://127.0.0.1:9', '--token', 't');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:9/);
  });

  it('exits 2 on an unknown option or a URL that is not http(s)', async () => {
    expect((await sparki('whoami', '--frobnicate')).code).toBe(2);
    expect((await sparki('login', '--url', 'ftp://example.com')).code).toBe(2);
  });

  it('logs out of nothing quietly', async () => {
    const { code, stdout } = await sparki('logout', '--url', 'https://a.example');
    expect(code).toBe(0);
    expect(stdout).toBe('Not signed in to https://a.example\n');
  });
});
