import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLink, resolveTarget, writeLink } from './client';
import { pullText } from './commands/env';
import { gitProvider, slugify } from './commands/link';
import { exitCodeFor, liveLogUrl, renderLine, stepProgress } from './commands/logs';
import { saveCredential } from './config';
import { ApiRequestError, CliError, describeError, formatTable, isCi, paint } from './output';
import { ago, buildRows } from './tables';

describe('resolveTarget', () => {
  const link = { project_id: 'p', workspace_id: 'w', url: 'http://linked' };
  /** No `sparki login` has stored anything here. */
  const none = join(tmpdir(), `sparki-no-credentials-${process.pid}.json`);

  it('takes the flags first, then the environment, then the link', async () => {
    const env = { SPARKI_URL: 'http://env/', SPARKI_TOKEN: 'env-token' };
    expect(
      await resolveTarget({ url: 'http://flag', token: 'flag-token' }, link, env, none),
    ).toEqual({ url: 'http://flag', token: 'flag-token' });
    expect(await resolveTarget({}, link, env, none)).toEqual({
      url: 'http://env',
      token: 'env-token',
    });
    expect((await resolveTarget({}, link, { SPARKI_TOKEN: 't' }, none)).url).toBe('http://linked');
  });

  it("falls back to the token sparki login stored for the link's platform", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sparki-creds-'));
    const path = join(dir, 'credentials.json');
    await saveCredential('http://linked', { token: 'stored-token', email: 'a@example.com' }, path);
    expect(await resolveTarget({}, link, {}, path)).toEqual({
      url: 'http://linked',
      token: 'stored-token',
    });
    await rm(dir, { recursive: true, force: true });
  });

  it('is a usage error without a URL, and needs input (exit 4) without a token', async () => {
    await expect(resolveTarget({}, null, { SPARKI_TOKEN: 't' }, none)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/--url/),
    });
    await expect(resolveTarget({}, link, {}, none)).rejects.toMatchObject({
      exitCode: 4,
      message: expect.stringContaining('SPARKI_TOKEN'),
    });
  });
});

describe('the project link', () => {
  it('is written to .sparki/project.json and read back', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sparki-link-'));
    try {
      expect(await readLink(root)).toBeNull();
      const link = { project_id: 'p1', workspace_id: 'w1', url: 'http://x' };
      expect(await writeLink(root, link)).toBe(join(root, '.sparki', 'project.json'));
      expect(await readLink(root)).toEqual(link);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('link --create', () => {
  it('slugifies the directory name', () => {
    expect(slugify('My Site.git')).toBe('my-site');
    expect(slugify('--Über__app--')).toBe('ber-app');
    expect(slugify('!!!')).toBe('project');
    expect(slugify('a'.repeat(70)).length).toBe(60);
  });

  it('names the provider from the remote', () => {
    expect(gitProvider('git@github.com:acme/web.git')).toBe('github');
    expect(gitProvider('https://github.com/acme/web.git')).toBe('github');
    expect(gitProvider('https://gitlab.com/acme/web')).toBe('gitlab');
    expect(gitProvider('/home/me/code/site')).toBe('none');
    expect(gitProvider('https://git.example.com/acme/web')).toBe('none');
  });
});

describe('logs', () => {
  const line = { seq: 1, stream: 'stdout' as const, text: '\x1b[32mok\x1b[0m', ts: 0 };

  it('keeps colours on a terminal and strips them elsewhere', () => {
    expect(renderLine(line, true)).toBe('\x1b[32mok\x1b[0m');
    expect(renderLine(line, false)).toBe('ok');
  });

  it("exits with the build's result", () => {
    expect(exitCodeFor('succeeded')).toBe(0);
    expect(exitCodeFor('failed')).toBe(1);
    expect(exitCodeFor('canceled')).toBe(1);
    expect(exitCodeFor('timed_out')).toBe(1);
  });

  it('reports each step once as it starts and ends', () => {
    const step = (id: string, position: number, status: string, exit_code?: number) => ({
      id,
      position,
      name: id,
      command: `npm run ${id}`,
      status: status as 'running',
      exit_code,
    });
    const seen = new Map<string, string>();
    expect(
      stepProgress(seen, [step('install', 0, 'running'), step('build', 1, 'pending')]),
    ).toEqual(['▸ install: npm run install']);
    expect(
      stepProgress(seen, [step('install', 0, 'running'), step('build', 1, 'pending')]),
    ).toEqual([]);
    expect(
      stepProgress(seen, [step('build', 1, 'failed', 2), step('install', 0, 'succeeded')]),
    ).toEqual(['✓ install', '✗ build (exit 2)']);
  });

  it('opens the socket on ws: or wss:, asking for packed lines', () => {
    expect(liveLogUrl('http://127.0.0.1:8787', 'b1', 0)).toBe(
      'ws://127.0.0.1:8787/api/builds/b1/logs/live?after=0&lines=packed',
    );
    expect(liveLogUrl('https://sparki.example.com', 'b 2', 7)).toBe(
      'wss://sparki.example.com/api/builds/b%202/logs/live?after=7&lines=packed',
    );
  });
});

describe('env pull', () => {
  it('writes plain variables only and names the secrets left out', () => {
    const { text, skipped } = pullText([
      { name: 'A', secret: false, value: 'x y' },
      { name: 'TOKEN', secret: true },
      { name: 'B', secret: false, value: '1' },
    ]);
    expect(text).toBe('A="x y"\nB=1\n');
    expect(skipped).toEqual(['TOKEN']);
  });
});

describe('output', () => {
  it('reports an API error with its message and request id', () => {
    const error = new ApiRequestError(404, 'not_found', 'Project not found', 'req-1');
    expect(describeError(error)).toEqual({
      message: 'error: Project not found (request id req-1)',
      exitCode: 1,
    });
    expect(describeError(new CliError('needs a value', 4))).toEqual({
      message: 'error: needs a value',
      exitCode: 4,
    });
  });

  it('colours only a terminal', () => {
    const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });
    const terminal = Object.assign(sink(), { isTTY: true, getColorDepth: () => 8 });
    expect(paint('green', 'ok', terminal as unknown as NodeJS.WriteStream)).toBe(
      '\x1b[32mok\x1b[39m',
    );
    expect(paint('green', 'ok', sink() as unknown as NodeJS.WriteStream)).toBe('ok');
  });

  it('knows CI from $CI', () => {
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({ CI: '1' })).toBe(true);
    expect(isCi({ CI: 'false' })).toBe(false);
    expect(isCi({ CI: '' })).toBe(false);
    expect(isCi({})).toBe(false);
  });

  it('aligns columns by their visible width, colour codes aside', () => {
    const table = formatTable(
      ['A', 'B'],
      [
        ['\x1b[32mlong\x1b[39m', 'x'],
        ['s', 'y'],
      ],
    );
    expect(table.split('\n').slice(1)).toEqual(['\x1b[32mlong\x1b[39m  x', 's     y']);
  });

  it('shows builds newest first with their age', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    expect(ago('2026-01-01T00:09:30Z', now)).toBe('30s ago');
    expect(ago('2026-01-01T00:00:00Z', now)).toBe('10m ago');
    expect(ago(null, now)).toBe('-');
    const [header, row] = buildRows(
      [
        {
          id: 'b1',
          number: 3,
          status: 'queued',
          trigger: 'push',
          branch: 'main',
          commit_sha: 'abcdef0123',
          commit_message: 'fix\nmore',
          created_at: '2026-01-01T00:09:00Z',
          started_at: null,
          finished_at: null,
        },
      ],
      now,
    );
    expect(header![0]).toBe('BUILD');
    expect(row).toEqual(['#3', 'queued', 'main', 'abcdef0', '1m ago', 'b1', 'fix']);
  });
});
