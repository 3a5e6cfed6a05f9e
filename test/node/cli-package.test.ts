import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
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
});
