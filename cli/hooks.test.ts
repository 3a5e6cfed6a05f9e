import { execFile, execFileSync } from 'node:child_process';
import { access, constants, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveCredential } from './config';
import { HOOK_MARKER, hookScript, shellQuote } from './hooks';

const execFileAsync = promisify(execFile);
const BIN = join(import.meta.dirname, 'bin.mjs');
const PROJECT = '22222222-2222-4222-8222-222222222222';

function git(cwd: string, ...args: string[]) {
  return execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

async function sparki(cwd: string, args: string[], env: Record<string, string> = {}) {
  const { SPARKI_TOKEN: _token, ...rest } = process.env;
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...rest, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('hook script', () => {
  it('quotes paths for the shell', () => {
    expect(shellQuote("/a b/it's")).toBe(`'/a b/it'\\''s'`);
    const script = hookScript('post-commit', ['/usr/bin/node', '/opt/sparki/bin.mjs']);
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain(HOOK_MARKER);
    expect(script).toContain(`'/usr/bin/node' '/opt/sparki/bin.mjs' hooks notify`);
  });
});

describe('sparki hooks', () => {
  let repo: string;
  let requests: { url: string; authorization?: string }[];
  let answer: { status: number; body: unknown };
  let server: ReturnType<typeof createServer>;
  let url: string;

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'sparki-hooks-'));
    git(repo, 'init', '--quiet', '--initial-branch=main');
    requests = [];
    answer = { status: 202, body: { status: 'requested', runner_id: PROJECT } };
    server = createServer((request: IncomingMessage, response) => {
      requests.push({ url: request.url!, authorization: request.headers.authorization });
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(repo, { recursive: true, force: true });
  });

  const install = (...extra: string[]) =>
    sparki(repo, ['hooks', 'install', '--url', url, '--project', PROJECT, ...extra]);

  it('installs hooks that notify Sparki after a commit, with the token kept private', async () => {
    const installed = await install('--token', 'spk_test_token');
    expect(installed.code, installed.stderr).toBe(0);
    for (const name of ['post-commit', 'post-merge']) {
      const path = join(repo, '.git/hooks', name);
      await access(path, constants.X_OK);
      expect(await readFile(path, 'utf8')).toContain(HOOK_MARKER);
    }
    expect((await stat(join(repo, '.git/sparki/token'))).mode & 0o777).toBe(0o600);
    expect(git(repo, 'config', 'sparki.project')).toBe(PROJECT);

    await writeFile(join(repo, 'a.txt'), 'a');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'a');
    const start = Date.now();
    while (requests.length === 0 && Date.now() - start < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(requests).toEqual([
      { url: `/api/projects/${PROJECT}/poll`, authorization: 'Bearer spk_test_token' },
    ]);
  });

  it('keeps an existing hook, runs it first, and puts it back on uninstall', async () => {
    const own = join(repo, '.git/hooks/post-commit');
    await writeFile(own, '#!/bin/sh\necho mine > "$(git rev-parse --git-dir)/mine.txt"\n', {
      mode: 0o755,
    });
    const installed = await install();
    expect(installed.stdout).toContain('kept as post-commit.pre-sparki');
    await writeFile(join(repo, 'a.txt'), 'a');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'a');
    expect(await readFile(join(repo, '.git/mine.txt'), 'utf8')).toBe('mine\n');

    // Installing again rewrites Sparki's hook and leaves the chained one alone.
    expect((await install()).code).toBe(0);
    expect(await readFile(`${own}.pre-sparki`, 'utf8')).toContain('echo mine');

    const removed = await sparki(repo, ['hooks', 'uninstall']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await readFile(own, 'utf8')).toContain('echo mine');
    await expect(access(`${own}.pre-sparki`)).rejects.toThrow();
    await expect(access(join(repo, '.git/hooks/post-merge'))).rejects.toThrow();
  });

  it('refuses to overwrite a hook when the chained copy slot is taken', async () => {
    const own = join(repo, '.git/hooks/post-commit');
    await writeFile(own, '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(`${own}.pre-sparki`, '#!/bin/sh\n', { mode: 0o755 });
    const refused = await install();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('move one of them away');
    expect(await readFile(own, 'utf8')).toBe('#!/bin/sh\n');
    await expect(access(join(repo, '.git/hooks/post-merge'))).rejects.toThrow();
  });

  it('notify prints the platform’s error with its request id, and needs a token and a project', async () => {
    expect((await sparki(repo, ['hooks', 'notify'])).stderr).toContain(
      'run `sparki hooks install` first',
    );
    await install();
    // Nothing stored by `sparki login` either: its config lives in a directory of the test's.
    const config = await mkdtemp(join(tmpdir(), 'sparki-config-'));
    const noToken = await sparki(repo, ['hooks', 'notify'], { XDG_CONFIG_HOME: config });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('No token');
    // The token `sparki login` stored for the hook's platform is used when the hook has none.
    await saveCredential(url, { token: 'from-login' }, join(config, 'sparki', 'credentials.json'));
    await sparki(repo, ['hooks', 'notify'], { XDG_CONFIG_HOME: config });
    expect(requests.at(-1)?.authorization).toBe('Bearer from-login');
    await rm(config, { recursive: true, force: true });
    answer = {
      status: 503,
      body: {
        error: { code: 'not_ready', message: 'No runner is connected' },
        request_id: 'req-1',
      },
    };
    const failed = await sparki(repo, ['hooks', 'notify'], { SPARKI_TOKEN: 'from-env' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('503: No runner is connected (request req-1)');
    expect(requests.at(-1)?.authorization).toBe('Bearer from-env');
  });

  it('outside a git working tree: a usage error', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'sparki-nogit-'));
    const result = await sparki(outside, ['hooks', 'install', '--url', url, '--project', PROJECT]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is not in a git working tree');
    await rm(outside, { recursive: true, force: true });
  });
});
