import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browse, type E2E, git, pageSiteFiles, startE2E } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * The CLI's project commands (issue 13 items 4 and 5) as a person or a CI job runs them: the
 * real `sparki` executable against the local stack, with a real runner building real commits.
 */

const BIN = join(import.meta.dirname, '../../cli/bin.mjs');
const page = (version: string) => `<h1>cli ${version}</h1>\n`;
const siteFiles = pageSiteFiles('cli', page('v1'), '\x1b[32mbuilt the cli site\x1b[0m', {
  '.gitignore': '.sparki/\n',
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Deployment {
  id: string;
  build_id: string;
  stage: string;
  status: string;
  url: string | null;
}

/** Parses NDJSON, failing the test on any line that is not JSON. */
function ndjson<T>(text: string): T[] {
  expect(text.endsWith('\n') || text === '').toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

describe('sparki project commands, end to end', () => {
  let e2e: E2E;

  /** Runs `sparki` in `cwd` as a separate process, signed in through the environment. */
  function sparki(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd,
        env: {
          ...process.env,
          CI: '',
          // No credentials of the machine's own `sparki login`: only what each test gives.
          XDG_CONFIG_HOME: join(tmpdir(), `sparki-e2e-cli-config-${process.pid}`),
          SPARKI_URL: e2e.base,
          SPARKI_TOKEN: e2e.token(),
          ...env,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** A person's terminal: colours left to the CLI (the test runner's own settings removed). */
  function terminalEnv(): NodeJS.ProcessEnv {
    const {
      NO_COLOR: _no,
      FORCE_COLOR: _force,
      NODE_DISABLE_COLORS: _disable,
      ...env
    } = process.env;
    return {
      ...env,
      TERM: 'xterm-256color',
      CI: '',
      SPARKI_URL: e2e.base,
      SPARKI_TOKEN: e2e.token(),
    };
  }

  /**
   * Runs `sparki` on a pseudo-terminal (util-linux `script`), answering each prompt as it
   * appears; the output is what the terminal showed (stdout and stderr together).
   */
  function onTerminal(cwd: string, args: string[], answers: { prompt: string; send: string }[]) {
    const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
    const command = [process.execPath, BIN, ...args].map(quote).join(' ');
    return new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
        cwd,
        env: terminalEnv(),
      });
      let screen = '';
      const pending = [...answers];
      child.stdout.on('data', (chunk) => {
        screen += chunk;
        if (pending[0] && screen.includes(pending[0].prompt))
          child.stdin.write(pending.shift()!.send);
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, screen }));
    });
  }

  /** A `sparki` run that must succeed. */
  async function ok(cwd: string, ...args: string[]): Promise<Run> {
    const run = await sparki(cwd, args);
    expect(run.code, `sparki ${args.join(' ')}:\n${run.stdout}\n${run.stderr}`).toBe(0);
    return run;
  }

  const deployments = async () =>
    ndjson<Deployment>((await ok(e2e.repo, 'deployments', '--json')).stdout);

  const productionLive = (buildId: string) =>
    e2e.waitFor(
      `build ${buildId} live in production`,
      async () =>
        (await deployments()).find(
          (d) => d.build_id === buildId && d.stage === 'production' && d.status === 'live',
        ),
      60_000,
    );

  beforeAll(async () => {
    e2e = await startE2E(siteFiles);
    const runner = await e2e.registerRunner('runner-cli');
    e2e.startRunner(runner.config);
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (e2e) await e2e.stop();
  });

  it('link → builds --json → logs -f to the end → deployments → rollback serves the previous version', async () => {
    // No --project: the project whose repository is this working tree is found.
    const linked = await ok(e2e.repo, 'link');
    expect(linked.stdout).toContain(e2e.project.id);
    expect(JSON.parse(await readFile(join(e2e.repo, '.sparki/project.json'), 'utf8'))).toEqual({
      project_id: e2e.project.id,
      workspace_id: e2e.workspaceId,
      url: e2e.base,
    });
    // The repository ignores .sparki/ already: no hint.
    expect(linked.stderr).toBe('');

    const v1 = await e2e.deliver(randomUUID(), git(e2e.repo, 'rev-parse', 'HEAD'));
    const v1Build = v1.body.build_id!;
    // Follows the build from the queue to its end, and exits with its result.
    const followed = await ok(e2e.repo, 'logs', v1Build, '-f');
    expect(followed.stdout).toContain('built the cli site');
    // Not a terminal: the build's colours are stripped.
    expect(followed.stdout).not.toContain('\x1b[');
    expect(followed.stderr).toMatch(/Build #1 succeeded/);
    // Progress: each step as it ends, on stderr.
    expect(followed.stderr).toMatch(/^✓ \S+/m);

    const builds = ndjson<{ id: string; status: string }>(
      (await ok(e2e.repo, 'builds', '--json')).stdout,
    );
    expect(builds).toEqual([expect.objectContaining({ id: v1Build, status: 'succeeded' })]);
    const first = await productionLive(v1Build);

    // `sparki open` prints the production URL (no browser without a terminal).
    const productionUrl = (await ok(e2e.repo, 'open')).stdout.trim();
    expect(productionUrl).toMatch(/^http:\/\/e2e\.localhost:\d+$/);
    expect(JSON.parse((await ok(e2e.repo, 'open', '--dashboard', '--json')).stdout)).toEqual({
      url: `${e2e.base}/projects/${e2e.project.id}`,
      production_url: productionUrl,
      dashboard_url: `${e2e.base}/projects/${e2e.project.id}`,
    });
    expect(await browse(productionUrl)).toEqual({ status: 200, body: page('v1') });

    const sha = await e2e.commit({ 'page.html': page('v2') }, 'v2');
    const v2Build = (await e2e.deliver(randomUUID(), sha)).body.build_id!;
    // Without a build id: the latest build, which is v2's.
    const latest = await ok(e2e.repo, 'logs', '-f', '--json');
    const output = ndjson<{ seq: number; text: string } | { timeline: { phases: unknown[] } }>(
      latest.stdout,
    );
    // The log lines, then the build's timeline as the last object.
    const timeline = output.pop();
    expect(timeline).toHaveProperty('timeline.phases');
    const lines = output as { seq: number; text: string }[];
    expect(lines.map((line) => line.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.some((line) => line.text.includes('built the cli site'))).toBe(true);
    await productionLive(v2Build);
    expect(await browse(productionUrl)).toEqual({ status: 200, body: page('v2') });

    const table = (await ok(e2e.repo, 'deployments')).stdout;
    expect(table.split('\n')[0]).toMatch(/^ID +ENVIRONMENT +STATUS +BUILD +CREATED +URL$/);
    expect(table).toContain(first.id);

    const rolledBack = await ok(e2e.repo, 'rollback', '--json');
    expect(JSON.parse(rolledBack.stdout)).toMatchObject({ id: first.id });
    await e2e.waitFor(
      'production to serve v1 again',
      async () => (await browse(productionUrl)).body === page('v1'),
      10_000,
    );

    // A build's log without -f: the stored lines, and exit 0.
    const stored = await ok(e2e.repo, 'logs', v1Build);
    expect(stored.stdout).toContain('built the cli site');
  }, 240_000);

  it('promote puts a live preview in production; logs -f exits 1 for a failed build', async () => {
    await ok(e2e.repo, 'link', '--project', e2e.project.id);
    git(e2e.repo, 'checkout', '--quiet', '-b', 'feature');
    try {
      const sha = await e2e.commit({ 'page.html': page('v3') }, 'v3 on a branch');
      const build = (await e2e.deliver(randomUUID(), sha, 'feature')).body.build_id!;
      await ok(e2e.repo, 'logs', build, '-f');
      const preview = await e2e.waitFor(
        `the preview deployment of ${build}`,
        async () =>
          (await deployments()).find(
            (d) => d.build_id === build && d.stage === 'preview' && d.status === 'live',
          ),
        60_000,
      );
      const promoted = JSON.parse((await ok(e2e.repo, 'promote', preview.id, '--json')).stdout);
      expect(promoted).toMatchObject({ build_id: build, stage: 'production' });
      await productionLive(build);
      const productionUrl = (await ok(e2e.repo, 'open', '--no-browser')).stdout.trim();
      expect(await browse(productionUrl)).toEqual({ status: 200, body: page('v3') });
    } finally {
      git(e2e.repo, 'checkout', '--quiet', 'main');
    }

    // A project whose build fails: following it ends with exit code 1.
    const broken = await e2e.newProject(
      { ...siteFiles, 'build.js': 'console.error("cannot build"); process.exit(3);\n' },
      'cli-broken',
    );
    await ok(broken.repo, 'link');
    const failing = (await broken.deliver(randomUUID(), git(broken.repo, 'rev-parse', 'HEAD'))).body
      .build_id!;
    const followed = await sparki(broken.repo, ['logs', failing, '-f']);
    expect(followed.code, followed.stderr).toBe(1);
    expect(followed.stdout).toContain('cannot build');
    expect(followed.stderr).toMatch(/Build #1 failed/);
    expect(followed.stderr).toMatch(/^✗ \S+/m);
  }, 180_000);

  it('env add / ls / pull (no secrets) / import / rm', async () => {
    await ok(e2e.repo, 'link', '--project', e2e.project.id);
    await ok(e2e.repo, 'env', 'add', 'GREETING', 'hello world');
    await ok(e2e.repo, 'env', 'add', 'API_KEY', 's3cret-value', '--secret');
    await ok(e2e.repo, 'env', 'add', 'PREVIEW_ONLY', 'yes', '--env', 'preview');

    const listed = ndjson<{ environment: string; name: string; secret: boolean; value?: string }>(
      (await ok(e2e.repo, 'env', 'ls', '--json')).stdout,
    );
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          environment: 'production',
          name: 'GREETING',
          value: 'hello world',
        }),
        expect.objectContaining({ environment: 'production', name: 'API_KEY', secret: true }),
        expect.objectContaining({ environment: 'preview', name: 'PREVIEW_ONLY', value: 'yes' }),
      ]),
    );
    expect(listed.find((v) => v.name === 'API_KEY')!.value).toBeUndefined();

    const dotenv = join(e2e.stateDir, 'pulled.env');
    const pulled = await ok(e2e.repo, 'env', 'pull', dotenv);
    expect(await readFile(dotenv, 'utf8')).toBe('GREETING="hello world"\n');
    expect(pulled.stderr).toContain('Secrets are not written: API_KEY');

    const importFile = join(e2e.stateDir, 'import.env');
    await writeFile(importFile, '# imported\nGREETING="hello world"\nexport DB_HOST=db.internal\n');
    const imported = await ok(e2e.repo, 'env', 'import', importFile);
    expect(imported.stdout).toContain('Imported 1 variable into production (1 unchanged)');

    await ok(e2e.repo, 'env', 'rm', 'GREETING');
    const after = ndjson<{ name: string; value?: string }>(
      (await ok(e2e.repo, 'env', 'ls', '--env', 'production', '--json')).stdout,
    );
    expect(after.map((v) => v.name).sort()).toEqual(['API_KEY', 'DB_HOST']);
    expect(after.find((v) => v.name === 'DB_HOST')!.value).toBe('db.internal');

    // A .env with a broken line imports nothing and says which line.
    await writeFile(importFile, 'OK=1\n1BAD=2\n');
    const broken = await sparki(e2e.repo, ['env', 'import', importFile]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('line 2: 1BAD is not a variable name');
  }, 60_000);

  it('link --create makes a project from the working tree; runners lists the runner', async () => {
    const tree = join(e2e.stateDir, 'my-new-site');
    await mkdir(tree);
    await writeFile(join(tree, 'index.html'), '<h1>new</h1>\n');
    git(tree, 'init', '--quiet', '--initial-branch=main');
    git(tree, 'add', '.');
    git(tree, 'commit', '--quiet', '-m', 'first');

    // Neither --project nor --create, and no project of this repository: in CI that is an error.
    const ci = await sparki(tree, ['link'], { CI: 'true' });
    expect(ci.code).toBe(4);
    expect(ci.stdout).toBe('');
    expect(ci.stderr).toContain('pass --project <id>, or --create');

    const created = await ok(tree, 'link', '--create', '--json');
    const project = JSON.parse(created.stdout) as { id: string; slug: string; repo_url: string };
    expect(project).toMatchObject({ slug: 'my-new-site', repo_url: tree });
    // The local detection, and the .gitignore hint, go to stderr.
    expect(created.stderr).toMatch(/^framework +Static HTML/m);
    expect(created.stderr).toContain('add .sparki/ to .gitignore');
    const link = JSON.parse(await readFile(join(tree, '.sparki/project.json'), 'utf8'));
    expect(link.project_id).toBe(project.id);

    const runners = ndjson<{ name: string; status: string }>(
      (await ok(tree, 'runners', '--json')).stdout,
    );
    expect(runners).toEqual([expect.objectContaining({ name: 'runner-cli', status: 'online' })]);
  }, 60_000);

  it('on a terminal it asks: a secret without echo, a project to link by number', async () => {
    await ok(e2e.repo, 'link', '--project', e2e.project.id);
    const secret = await onTerminal(
      e2e.repo,
      ['env', 'add', 'TTY_SECRET', '--secret'],
      [{ prompt: 'Value of TTY_SECRET (hidden): ', send: 'hunter2\r' }],
    );
    expect(secret.code, secret.screen).toBe(0);
    expect(secret.screen).toContain('Set secret TTY_SECRET in production');
    expect(secret.screen).not.toContain('hunter2');
    const listed = ndjson<{ name: string; secret: boolean }>(
      (await ok(e2e.repo, 'env', 'ls', '--env', 'production', '--json')).stdout,
    );
    expect(listed).toContainEqual(expect.objectContaining({ name: 'TTY_SECRET', secret: true }));

    // A tree of no project's repository: the projects to choose from, by number.
    const tree = join(e2e.stateDir, 'unrelated');
    await mkdir(tree);
    const chosen = await onTerminal(tree, ['link'], [{ prompt: 'Project [1-', send: '1\r' }]);
    expect(chosen.code, chosen.screen).toBe(0);
    expect(chosen.screen).toMatch(/1\) \S+ \(\S+\)/);
    expect(chosen.screen).toContain('Linked');
  }, 60_000);

  it('exit codes: 4 when a prompt is needed in CI, 2 for usage, 1 with the API message and request id', async () => {
    await ok(e2e.repo, 'link', '--project', e2e.project.id);
    const missingValue = await sparki(e2e.repo, ['env', 'add', 'NAME'], { CI: 'true' });
    expect(missingValue.code).toBe(4);
    expect(missingValue.stderr).toContain('the value of NAME is needed and CI is set');

    const usage = await sparki(e2e.repo, ['builds', '--limit', 'many']);
    expect(usage.code).toBe(2);

    const missing = await sparki(e2e.repo, [
      'promote',
      '00000000-0000-4000-8000-000000000000',
      '--json',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^error: .*not found.* \(request id [0-9a-f-]{36}\)\n$/i);

    const unsigned = await sparki(e2e.repo, ['builds', '--json'], { SPARKI_TOKEN: 'not-a-token' });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stdout).toBe('');
    expect(unsigned.stderr).toMatch(/\(request id [0-9a-f-]{36}\)/);

    const noToken = await sparki(e2e.repo, ['builds'], { SPARKI_TOKEN: '' });
    expect(noToken.code).toBe(4);
    expect(noToken.stderr).toContain('run `sparki login');
    expect(noToken.stderr).toContain('set SPARKI_TOKEN');
  }, 60_000);
});
