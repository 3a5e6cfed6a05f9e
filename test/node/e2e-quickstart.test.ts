import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, describe, expect, it } from 'vitest';
import { browse, git } from './e2e-helpers';
import {
  type ChildEnv,
  type RunningStack,
  STARTUP_TIMEOUT_MS,
  startStack,
  stopStack,
} from './stack';

/**
 * The README's "Zero to live", run as written (issue 11): from an empty state directory to a
 * newcomer's own app live at its URL, with nothing but the commands the README gives. Only the
 * port differs (the README's 8787 becomes a free one) and the one step a person does by hand,
 * opening the mailed link, is done the way the page it opens does it.
 */

const ROOT = join(import.meta.dirname, '../..');
const PAGE = '<!doctype html>\n<title>My site</title>\n<h1>Hello from my own site</h1>\n';

/** The shell blocks of the README's quick start, in order. */
async function quickStart(port: number): Promise<string[]> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Zero to live');
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) =>
    match[1]!.replaceAll('localhost:8787', `localhost:${port}`),
  );
}

async function waitFor<T>(what: string, check: () => T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the README quick start', () => {
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...env }: ChildEnv = process.env;
  let stack: RunningStack | undefined;
  let shell: ChildProcess | undefined;
  const dirs: string[] = [];

  afterAll(async () => {
    // The shell's process group holds the runner the README starts in the background.
    if (shell?.pid) {
      try {
        process.kill(-shell.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (stack) expect(await stopStack(stack)).toBe(0);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it(
    'takes a newcomer from an empty state directory to their own app live at its URL',
    async () => {
      const stateDir = await mkdtemp(join(tmpdir(), 'sparki-quickstart-'));
      // The newcomer's home: the runner's configuration goes there, and their app.
      const home = await mkdtemp(join(tmpdir(), 'sparki-quickstart-home-'));
      dirs.push(stateDir, home);
      const port = await getPort();
      const [startBlock, signUp, setUp, goLive, ...others] = await quickStart(port);
      expect(others).toEqual([]);

      // The first terminal: `npm install` has run for this test run already.
      expect(startBlock!.trim()).toBe('npm install && npm run dev');
      stack = await startStack(stateDir, port, env);

      const app = join(home, 'code', 'my-site');
      await mkdir(app, { recursive: true });
      await writeFile(join(app, 'index.html'), PAGE);
      await writeFile(join(app, 'style.css'), 'h1 { color: rebeccapurple }\n');
      git(app, 'init', '--quiet', '--initial-branch=main');
      git(app, 'add', '.');
      git(app, 'commit', '--quiet', '-m', 'My site');

      // The second terminal, as one shell session; it waits on stdin while the link is opened.
      shell = spawn('bash', ['-c', `set -e\n${signUp}\nread -r _\n${setUp}\n${goLive}`], {
        cwd: ROOT,
        env: { ...env, HOME: home, XDG_CONFIG_HOME: '' } as unknown as NodeJS.ProcessEnv,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      let out = '';
      let err = '';
      shell.stdout!.on('data', (chunk) => (out += chunk));
      shell.stderr!.on('data', (chunk) => (err += chunk));
      const exited = new Promise<number | null>((resolve) => shell!.once('exit', resolve));

      // "The first terminal prints it. Open the link of the verification mail in a browser."
      const link = await waitFor(
        'the verification mail in the dev stack output',
        () =>
          /Mail to me@example\.com: .*\n\s*.*?(http:\/\/\S+verify-email#token=\S+)/.exec(
            stack!.output(),
          )?.[1],
        30_000,
      );
      expect(new URL(link).origin).toBe(`http://localhost:${port}`);
      // The link opens the dashboard's page (test/browser/auth.test.ts drives it in Chromium);
      // what that page does with the token from the fragment is the call below.
      const page = await fetch(link);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root"></div>');
      const verified = await fetch(`http://127.0.0.1:${port}/api/auth/verify-email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: new URL(link).hash.slice('#token='.length) }),
      });
      expect(verified.status).toBe(200);
      shell.stdin!.end('\n');

      const code = await Promise.race([
        exited,
        new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 180_000)),
      ]);
      expect(code, `${out}\n${err}\n${stack.output()}`).toBe(0);
      // `curl -sS $URL`, the last command, printed the app.
      expect(out.endsWith(PAGE), out).toBe(true);

      // What the README says the API shows, checked as a client of it.
      const base = `http://127.0.0.1:${port}`;
      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'me@example.com', password: 'correct horse battery staple' }),
      });
      const { access_token: token } = (await login.json()) as { access_token: string };
      const get = async <T>(path: string) =>
        (await (
          await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })
        ).json()) as T;
      const { workspaces } = await get<{ workspaces: { id: string }[] }>('/api/workspaces');
      const { projects } = await get<{
        projects: {
          id: string;
          repo_url: string;
          production_url: string;
          framework: string;
          detection: { build_number: number; output_directory: string };
        }[];
      }>(`/api/workspaces/${workspaces[0]!.id}/projects`);
      const [project] = projects;
      expect(project).toMatchObject({
        repo_url: app,
        production_url: `http://my-site.localhost:${port}`,
        framework: 'static',
        detection: { build_number: 1, output_directory: '.' },
      });
      expect(await browse(project!.production_url)).toEqual({ status: 200, body: PAGE });
      const { deployments } = await get<{ deployments: { url: string; status: string }[] }>(
        `/api/projects/${project!.id}/deployments`,
      );
      expect(deployments).toHaveLength(1);
      expect(deployments[0]!.status).toBe('live');
      expect(deployments[0]!.url).toMatch(
        new RegExp(`^http://[a-z0-9]+--my-site\\.localhost:${port}$`),
      );
      expect(await browse(deployments[0]!.url)).toEqual({ status: 200, body: PAGE });
    },
    STARTUP_TIMEOUT_MS + 240_000,
  );
});
