import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSparki, SPARKI_BIN } from '../../cli/spawn-sparki';
import { type E2E, startE2E } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * The terminal UI (issue 13 item 6, "done means" (d)): `sparki ui` on a pseudo-terminal (util-linux
 * `script`) against the real stack, showing a build go from queued to succeeded with no keypress.
 */

const siteFiles = {
  'package.json': JSON.stringify({ name: 'tui', private: true, scripts: { build: 'node b.js' } }),
  'b.js': `require('node:fs').mkdirSync('dist',{recursive:true});require('node:fs').writeFileSync('dist/index.html','<h1>tui</h1>');console.log('built the tui site');`,
};

describe('sparki ui, end to end', () => {
  let e2e: E2E;
  let child: ChildProcessWithoutNullStreams | undefined;

  beforeAll(async () => {
    e2e = await startE2E(siteFiles);
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (e2e) await e2e.stop();
  });

  it('shows a build go from queued to succeeded without a keypress; Enter follows its log; r + y redeploys; q quits with 0', async () => {
    const env = {
      ...process.env,
      CI: '',
      TERM: 'xterm-256color',
      SPARKI_URL: e2e.base,
      SPARKI_TOKEN: e2e.token(),
    };
    const linked = await runSparki(['link', '--project', e2e.project.id], { cwd: e2e.repo, env });
    expect(linked.code, linked.stderr).toBe(0);

    const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
    const command = `stty cols 120 rows 40; exec ${[process.execPath, SPARKI_BIN, 'ui'].map(quote).join(' ')}`;
    child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: e2e.repo, env });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child!.on('close', resolve));
    /** What the terminal showed so far, without its control sequences. */
    const screen = () => stripVTControlCharacters(output);
    const shows = async (what: string, pattern: RegExp, from = 0) => {
      try {
        return await e2e.waitFor(
          `the terminal to show ${what}`,
          async () => {
            const at = screen().slice(from).search(pattern);
            return at >= 0 && from + at + 1;
          },
          90_000,
        );
      } catch (error) {
        throw new Error(
          `${(error as Error).message}\nthe terminal showed:\n${screen().slice(-3000)}`,
        );
      }
    };

    await shows('the empty builds list', /No builds yet/);
    // No runner yet: the build waits (queued, then planned: offered to runners; both read
    // queued) until the screen has shown it.
    const build = await e2e.api<{ id: string; number: number }>(
      'POST',
      `/api/projects/${e2e.project.id}/builds`,
      {},
    );
    const queued = await shows('the build queued', new RegExp(`#${build.number}\\s+queued`));
    const runner = await e2e.registerRunner('runner-tui');
    e2e.startRunner(runner.config);
    const succeeded = await shows(
      'the build succeeded',
      new RegExp(`#${build.number}\\s+succeeded`),
      queued,
    );
    expect(child.exitCode).toBeNull();

    // Enter: the selected (only) build's log, to its end; Esc: back to the lists.
    child.stdin.write('\r');
    const logged = await shows(
      "the build's log",
      new RegExp(`Build #${build.number} log · ended: succeeded`),
      succeeded,
    );
    await shows('a line of the log', /built the tui site/, succeeded);
    child.stdin.write('\x1b');
    const back = await shows('the lists again', /Enter log {2}c cancel/, logged);

    // The deployments: redeploy production's, confirmed with y.
    const deployments = async () =>
      (
        await e2e.api<{ deployments: unknown[] }>(
          'GET',
          `/api/projects/${e2e.project.id}/deployments`,
        )
      ).deployments;
    await e2e.waitFor('a deployment', async () => (await deployments()).length === 1, 60_000);
    child.stdin.write('\t');
    const listed = await shows('the deployment selected', /› production( \*)?\s+\w+/, back);
    child.stdin.write('r');
    const asked = await shows(
      'the question',
      /Redeploy build #\d+'s deployment to production\?[\s\S]*?\(y\/n\)/,
      listed,
    );
    child.stdin.write('y');
    await shows('the result', /Redeploying to production\./, asked);
    await e2e.waitFor('the new deployment', async () => (await deployments()).length === 2, 30_000);

    child.stdin.write('q');
    expect(await exited, screen().slice(-3000)).toBe(0);
  }, 180_000);
});
