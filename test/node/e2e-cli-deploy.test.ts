import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSparki, SPARKI_BIN } from '../../cli/spawn-sparki';
import { browse, type E2E, startE2E } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * `sparki deploy --prebuilt` (issue 13 item 4) as a person runs it: the real executable uploads a
 * directory to the local stack, only what changed on a second run, and no runner is involved.
 */

interface Deployed {
  id: string;
  build_id: string;
  stage: string;
  status: string;
  url: string;
  upload: { files: number; blobs: number; bytes: number };
}

describe('sparki deploy --prebuilt, end to end', () => {
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

  it('without --prebuilt: local builds are not supported yet (exit 2)', async () => {
    const run = await runSparki(['deploy'], { cwd: e2e.repo, env: env() });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('local builds are not supported yet');
    const missing = await runSparki(['deploy', '--prebuilt', 'nowhere'], {
      cwd: e2e.repo,
      env: env(),
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  }, 60_000);
});
