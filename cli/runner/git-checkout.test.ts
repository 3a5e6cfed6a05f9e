import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutCommit, displayUrl } from './git-checkout';

let root: string;
let repo: string;
const commits: string[] = [];

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sparki-checkout-'));
  repo = join(root, 'repo');
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo]);
  for (const version of ['one', 'two']) {
    await writeFile(join(repo, 'version.txt'), version);
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', version);
    commits.push(git(repo, 'rev-parse', 'HEAD'));
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function checkout(
  dir: string,
  repoUrl: string,
  commitSha: string | null,
  branch: string | null = 'main',
) {
  const log: string[] = [];
  const done = checkoutCommit({
    repoUrl,
    commitSha,
    branch,
    dir: join(root, dir),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root },
    signal: new AbortController().signal,
    log: (text) => log.push(text),
  });
  return { done, log };
}

describe('checkoutCommit', () => {
  it('checks out an older commit than the branch head, by id', async () => {
    const { done } = checkout('a', repo, commits[0]!);
    expect(await done).toBe(commits[0]);
    expect(await readFile(join(root, 'a', 'version.txt'), 'utf8')).toBe('one');
  });

  it('finds an abbreviated id with a full fetch', async () => {
    const { done, log } = checkout('b', `file://${repo}`, commits[0]!.slice(0, 10));
    expect(await done).toBe(commits[0]);
    expect(log).toContain('Shallow fetch refused, fetching the whole repository');
  });

  it('fetches a branch head from an absolute path and from a file:// URL alike', async () => {
    for (const [dir, url] of [
      ['path', repo],
      ['url', `file://${repo}`],
    ] as const) {
      const { done, log } = checkout(dir, url, null);
      expect(await done).toBe(commits[1]);
      expect(await readFile(join(root, dir, 'version.txt'), 'utf8')).toBe('two');
      expect(log).not.toContain('Shallow fetch refused, fetching the whole repository');
    }
  });

  it('refuses what is not a commit id, so it cannot be read as an option', async () => {
    await expect(checkout('c', repo, '--upload-pack=touch /tmp/x').done).rejects.toThrow(
      'is not a commit id',
    );
  });

  it('keeps the credentials in the URL out of the log and the error', async () => {
    const url = 'http://deploy:glpat-s3cr3t@127.0.0.1:9/acme/site.git';
    expect(displayUrl(url)).toBe('http://127.0.0.1:9/acme/site.git');
    const { done, log } = checkout('d', url, commits[0]!);
    const error: Error = await done.catch((caught) => caught);
    expect(error.message).toMatch(/^git fetch: /);
    expect(`${error.message} ${log.join(' ')}`).not.toMatch(/glpat-s3cr3t|deploy:/);
  });
});
