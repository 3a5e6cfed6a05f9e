import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSparki, SPARKI_BIN } from '../../cli/spawn-sparki';
import { browse, type E2E, startE2E } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * `sparki deploy` (issue 13 item 4) as a person runs it: the real executable builds here (or takes a
 * --prebuilt directory) and uploads to the local stack, only what changed on a second run; no
 * runner is involved.
 */

/** Writes dist/ from version.txt and the variables it is given; "fail" fails it. */
const LOCAL_BUILD_JS = `
const fs = require('node:fs');
const version = fs.readFileSync('version.txt', 'utf8').trim();
console.log('building ' + version + ' on stdout');
console.error('a warning on stderr');
if (version === 'fail') process.exit(3);
fs.mkdirSync('dist', { recursive: true });
const key = process.env.API_KEY ? 'a key' : 'no key';
const token = process.env.SPARKI_TOKEN ? 'a token' : 'no token';
fs.writeFileSync('dist/index.html',
  '<h1>' + version + '</h1><p>' + process.env.GREETING + '</p><p>' + key + '</p><p>' + token + '</p>');
`;

interface Deployed {
  id: string;
  build_id: string;
  stage: string;
  status: string;
  url: string;
  upload: { files: number; blobs: number; bytes: number };
}

describe('sparki deploy, end to end', () => {
  let e2e: E2E;
  let dist: string;

  const env = () => ({ ...process.env, CI: '', SPARKI_URL: e2e.base, SPARKI_TOKEN: e2e.token() });

  async function sparki(...args: string[]) {
    const run = await runSparki(args, { cwd: e2e.repo, env: env() });
    expect(run.code, `sparki ${args.join(' ')}:\n${run.stdout}\n${run.stderr}`).toBe(0);
    return run;
  }

  async function deploy(...args: string[]): Promise<Deployed> {
    const run = await sparki('deploy', '--prebuilt', 'dist', '--json', ...args);
    // JSON only on stdout: one object.
    return JSON.parse(run.stdout) as Deployed;
  }

  async function site(files: Record<string, string>) {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(dist, path, '..'), { recursive: true });
      await writeFile(join(dist, path), text);
    }
  }

  beforeAll(async () => {
    // No runner is started: a prebuilt deploy needs none.
    e2e = await startE2E({ 'README.md': 'prebuilt\n' });
    dist = join(e2e.repo, 'dist');
    await sparki('link', '--project', e2e.project.id);
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (e2e) await e2e.stop();
  });

  it('deploys a directory, then only the changed file, and --prod to production', async () => {
    await site({ 'index.html': '<h1>v1</h1>', 'assets/app.js': 'console.log(1)' });
    const first = await deploy();
    expect(first).toMatchObject({
      stage: 'preview',
      status: 'live',
      upload: { files: 2, blobs: 2, bytes: 11 + 14 },
    });
    expect(await browse(`${first.url}/`)).toEqual({ status: 200, body: '<h1>v1</h1>' });

    await site({ 'index.html': '<h1>v2!</h1>' });
    const second = await deploy();
    expect(second.upload).toEqual({ files: 2, blobs: 1, bytes: 12 });
    expect(second.build_id).not.toBe(first.build_id);
    expect(await browse(`${second.url}/`)).toEqual({ status: 200, body: '<h1>v2!</h1>' });
    expect(await browse(`${second.url}/assets/app.js`)).toEqual({
      status: 200,
      body: 'console.log(1)',
    });

    // Without --json: the URL alone on stdout, the rest on stderr.
    const human = await sparki('deploy', '--prebuilt', 'dist', '--prod');
    expect(human.stderr).toContain('2 files; 0 new (0 B) to upload');
    const productionUrl = human.stdout.trim();
    expect(productionUrl).toMatch(/^http:\/\/e2e\.localhost:\d+$/);
    expect(await browse(`${productionUrl}/`)).toEqual({ status: 200, body: '<h1>v2!</h1>' });
    // Another --prod deploy: production serves it, sending only the changed file.
    await site({ 'index.html': '<h1>v3</h1>' });
    const third = await deploy('--prod');
    expect(third).toMatchObject({
      stage: 'production',
      status: 'live',
      production_url: productionUrl,
    });
    expect(third.upload).toEqual({ files: 2, blobs: 1, bytes: 11 });
    expect(await browse(`${productionUrl}/`)).toEqual({ status: 200, body: '<h1>v3</h1>' });
    // The last preview still serves its own version.
    expect(await browse(`${second.url}/`)).toEqual({ status: 200, body: '<h1>v2!</h1>' });
  }, 120_000);

  it('shows a progress bar on a terminal only', async () => {
    await site({ 'index.html': `<h1>${crypto.randomUUID()}</h1>` });
    const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
    const command = [process.execPath, SPARKI_BIN, 'deploy', '--prebuilt', 'dist']
      .map(quote)
      .join(' ');
    const screen = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
        cwd: e2e.repo,
        env: env(),
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(output) : reject(new Error(`exit ${code}: ${output}`)),
      );
    });
    expect(screen).toMatch(/\[#{24}\] 1\/1 files/);
    // Not a terminal: no bar.
    await site({ 'index.html': `<h1>${crypto.randomUUID()}</h1>` });
    const piped = await sparki('deploy', '--prebuilt', 'dist');
    expect(piped.stderr).not.toContain('[#');
  }, 120_000);

  it('without --prebuilt: builds here with the detected commands, streaming them, then deploys', async () => {
    // A generic Node app: npm install (no dependencies, nothing fetched), then its build script;
    // where it writes is configured in the project's settings, as detection cannot tell.
    await writeFile(
      join(e2e.repo, 'package.json'),
      JSON.stringify({ name: 'local', private: true, scripts: { build: 'node build.js' } }),
    );
    await writeFile(join(e2e.repo, 'build.js'), LOCAL_BUILD_JS);
    await writeFile(join(e2e.repo, 'version.txt'), 'local-1');
    await e2e.api('PATCH', `/api/projects/${e2e.project.id}/settings`, {
      overrides: { outputDirectory: 'dist' },
    });
    const variables = `/api/projects/${e2e.project.id}/environments/preview/variables`;
    await e2e.api('PUT', `${variables}/GREETING`, { value: 'hello from preview' });
    await e2e.api('PUT', `${variables}/API_KEY`, { value: 'never-read-back', secret: true });

    const first = await sparki('deploy', '--json');
    // stdout is the JSON alone; the commands' output and the progress are on stderr.
    const deployed = JSON.parse(first.stdout) as Deployed & {
      local_build: { framework: string; steps: { id: string; command: string }[] };
    };
    expect(deployed).toMatchObject({ stage: 'preview', status: 'live' });
    expect(deployed.local_build.framework).toBe('node');
    expect(deployed.local_build.steps.map((step) => [step.id, step.command])).toEqual([
      ['install', 'npm install'],
      ['build', 'npm run build'],
    ]);
    expect(first.stderr).toContain('▸ Install dependencies: npm install');
    expect(first.stderr).toMatch(/✓ Install dependencies \(\d+\.\d s\)/);
    expect(first.stderr).toContain('▸ Build: npm run build');
    expect(first.stderr).toContain('building local-1 on stdout');
    expect(first.stderr).toContain('a warning on stderr');
    expect(first.stderr).toContain('The build does not get the secrets of preview (API_KEY)');
    expect(first.stdout).not.toContain('building');
    expect(await browse(`${deployed.url}/`)).toEqual({
      status: 200,
      body: '<h1>local-1</h1><p>hello from preview</p><p>no key</p><p>no token</p>',
    });

    // Built again with one change: only the changed page is uploaded; --prod prints its URL.
    await writeFile(join(e2e.repo, 'version.txt'), 'local-2');
    const second = await runSparki(['deploy', '--prod'], {
      cwd: e2e.repo,
      env: { ...env(), CI: 'true' },
    });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/\d+ files; 1 new \(\d+ B\) to upload/);
    const productionUrl = second.stdout.trim();
    expect(productionUrl).toMatch(/^http:\/\/e2e\.localhost:\d+$/);
    // Production's variables, which have no GREETING.
    expect(await browse(`${productionUrl}/`)).toEqual({
      status: 200,
      body: '<h1>local-2</h1><p>undefined</p><p>no key</p><p>no token</p>',
    });
  }, 180_000);

  it('a failing build command exits 1 with its exit code, and deploys nothing', async () => {
    const before = await e2e.api<{ deployments: unknown[] }>(
      'GET',
      `/api/projects/${e2e.project.id}/deployments`,
    );
    await writeFile(join(e2e.repo, 'version.txt'), 'fail');
    const failed = await runSparki(['deploy'], { cwd: e2e.repo, env: env() });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('✗ Build (exit 3)');
    expect(failed.stderr).toContain(
      'error: the build command failed with exit code 3: npm run build',
    );
    const after = await e2e.api<{ deployments: unknown[] }>(
      'GET',
      `/api/projects/${e2e.project.id}/deployments`,
    );
    expect(after.deployments).toHaveLength(before.deployments.length);
  }, 120_000);

  it('says what to do when nothing can be detected, and when a directory is missing', async () => {
    await e2e.api('PATCH', `/api/projects/${e2e.project.id}/settings`, { overrides: null });
    const empty = join(e2e.stateDir, 'empty-app');
    await mkdir(empty, { recursive: true });
    await writeFile(join(empty, 'notes.txt'), 'nothing to build');
    const run = await runSparki(['deploy', empty], {
      cwd: e2e.repo,
      env: { ...env(), CI: 'true' },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `error: Sparki cannot tell how to build ${empty}: no known framework`,
    );
    expect(run.stderr).toContain('sparki deploy --prebuilt <dir>');

    const missing = await runSparki(['deploy', '--prebuilt', 'nowhere'], {
      cwd: e2e.repo,
      env: env(),
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  }, 60_000);
});
