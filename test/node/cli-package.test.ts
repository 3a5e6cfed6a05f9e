import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packCli } from '../../cli/pack';
import { asProcessEnv } from '../../cli/runner/environment';
import packageJson from '../../package.json' with { type: 'json' };

const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, '../fixtures/detect/nextjs');

/**
 * The packed CLI as a runner machine gets it: installed globally from the tarball alone, with
 * the registry out of reach, and run from outside the repository with a PATH that has Node
 * and nothing of this checkout's node_modules.
 */
describe('the packed sparki CLI', () => {
  let root: string;
  let prefix: string;
  let tarball: string;
  // Only Node's directory and the system's: no node_modules/.bin of this repository.
  const env = () =>
    asProcessEnv({ PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: root });
  const sparki = (...args: string[]) =>
    run(join(prefix, 'bin', 'sparki'), args, { cwd: root, env: env() });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sparki-cli-package-'));
    prefix = join(root, 'prefix');
    tarball = await packCli();
    await run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--offline',
        '--cache',
        join(root, 'npm-cache'),
        '--no-audit',
        '--no-fund',
        tarball,
      ],
      { cwd: root },
    );
  }, 120_000);

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is named after the version and carries no dependencies', async () => {
    expect(tarball).toMatch(new RegExp(`dist/cli/sparki-${packageJson.version}\\.tgz$`));
    const installed = join(prefix, 'lib', 'node_modules', 'sparki');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: 'sparki',
      bin: { sparki: 'sparki.mjs' },
      engines: { node: '>=22' },
    });
    expect(manifest.dependencies).toBeUndefined();
    expect((await readdir(installed)).sort()).toEqual([
      'THIRD-PARTY-LICENSES.txt',
      'package.json',
      'sparki.mjs',
    ]);
  });

  it('prints its version', async () => {
    const { stdout } = await sparki('--version');
    expect(stdout.trim()).toBe(packageJson.version);
  });

  it('detects a checkout', async () => {
    const app = join(root, 'app');
    await cp(FIXTURE, app, { recursive: true });
    const { stdout } = await sparki('detect', app);
    expect(stdout).toContain(`Sparki detection for ${app}`);
    expect(stdout).toMatch(/^framework +Next\.js \(nextjs\) +package\.json depends on "next"$/m);
  });

  it('has the runner agent', async () => {
    const { stdout } = await sparki('runner', '--help');
    expect(stdout).toMatch(/^ +register /m);
    expect(stdout).toMatch(/^ +start /m);
    // Past the help text: the agent's own modules load and read their configuration.
    const missing = join(root, 'missing.json');
    await expect(sparki('runner', 'start', '--config', missing)).rejects.toMatchObject({
      stderr: expect.stringContaining(`no runner configuration at ${missing}`),
    });
  });

  it('has the terminal UI (Ink and its layout engine bundled)', async () => {
    // A stand-in for the API: the project and one build.
    const server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      const url = request.url ?? '';
      const body = url.includes('/builds')
        ? {
            builds: [
              { id: 'b1', number: 7, status: 'running', created_at: new Date().toISOString() },
            ],
          }
        : url.includes('/deployments')
          ? { deployments: [] }
          : { id: 'p1', name: 'packed-project' };
      response.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const tree = join(root, 'tree');
      await mkdir(join(tree, '.sparki'), { recursive: true });
      const { port } = server.address() as AddressInfo;
      await writeFile(
        join(tree, '.sparki', 'project.json'),
        JSON.stringify({ project_id: 'p1', workspace_id: 'w1', url: `http://127.0.0.1:${port}` }),
      );
      const command = `stty cols 100 rows 20; exec '${join(prefix, 'bin', 'sparki')}' ui --token t`;
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
        cwd: tree,
        env: { ...env(), TERM: 'xterm-256color' },
      });
      let screen = '';
      let quit = false;
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.stdout.on('data', (chunk) => {
        screen += chunk;
        if (!quit && /#7\s+running/.test(stripVTControlCharacters(screen))) {
          quit = true;
          child.stdin.write('q');
        }
      });
      expect(await exited, stripVTControlCharacters(screen)).toBe(0);
      expect(stripVTControlCharacters(screen)).toContain('Sparki · packed-project');
    } finally {
      server.close();
    }
  });
});
