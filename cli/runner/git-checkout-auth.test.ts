import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckoutAuth } from '../../core/runner-protocol';
import { serveGit } from '../../test/git-http-backend';
import { checkoutCommit, checkoutSecrets } from './git-checkout';

/**
 * The checkout of a private repository: a real `git http-backend` behind HTTP Basic, as GitHub
 * serves a private repository to an installation token (`x-access-token:<token>`).
 */

const TOKEN = 'ghs_private-clone-token-0123456789';
const GOOD: CheckoutAuth = { username: 'x-access-token', password: TOKEN };

let root: string;
let server: Server;
let repoUrl: string;
let commit: string;
const authorizations: (string | undefined)[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sparki-checkout-auth-'));
  const repo = join(root, 'repos', 'shop.git');
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo]);
  await writeFile(join(repo, 'page.html'), 'private\n');
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], {
      cwd: repo,
      encoding: 'utf8',
    }).trim();
  git('add', '.');
  git('commit', '--quiet', '-m', 'one');
  commit = git('rev-parse', 'HEAD');
  const expected = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
  server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    serveGit(join(root, 'repos'), url.pathname, url, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  repoUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/shop.git`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await rm(root, { recursive: true, force: true });
});

function checkout(dir: string, auth: CheckoutAuth | null) {
  const log: string[] = [];
  const done = checkoutCommit({
    repoUrl,
    commitSha: commit,
    branch: 'main',
    dir: join(root, dir),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root },
    auth,
    signal: new AbortController().signal,
    log: (text) => log.push(text),
  });
  return { done, log };
}

describe('checkoutCommit with checkout credentials', () => {
  it('fetches a private repository with the token, and leaves it nowhere on disk or in the log', async () => {
    const { done, log } = checkout('with-token', GOOD);
    expect(await done).toBe(commit);
    expect(await readFile(join(root, 'with-token', 'page.html'), 'utf8')).toBe('private\n');
    const config = await readFile(join(root, 'with-token', '.git', 'config'), 'utf8');
    const leaks = new RegExp(checkoutSecrets(GOOD).join('|'));
    expect(config).not.toMatch(leaks);
    expect(log.join('\n')).not.toMatch(leaks);
    expect(authorizations.filter(Boolean).length).toBeGreaterThan(0);
  });

  it('fails without credentials, as the server answers 401', async () => {
    const error: Error = await checkout('without', null).done.catch((caught) => caught);
    expect(error.name).toBe('CheckoutError');
    expect(error.message).toMatch(/^git fetch: /);
  });

  it('fails with a wrong token and does not quote it in the error', async () => {
    const wrong: CheckoutAuth = { username: 'x-access-token', password: 'ghs_revoked-token-xyz' };
    const error: Error = await checkout('wrong', wrong).done.catch((caught) => caught);
    expect(error.name).toBe('CheckoutError');
    expect(error.message).not.toMatch(new RegExp(checkoutSecrets(wrong).join('|')));
  });

  it('masks the password and the header git sends', () => {
    const header = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    expect(checkoutSecrets(GOOD)).toEqual([TOKEN, header]);
    expect(checkoutSecrets(null)).toEqual([]);
  });
});
