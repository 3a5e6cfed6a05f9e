import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runSparki, startSparki } from '../../cli/spawn-sparki';
import { browse, newRepoProject, pageSiteFiles } from '../node/e2e-helpers';
import { type BuildStack, startBuildStack } from './build-stack';
import { approveInDashboard } from './device-approval';

/**
 * Issue 13's "Done means" (c) in one run of real processes: `sparki login` approved in the
 * dashboard (Chromium) → `sparki link` → `sparki deploy --prebuilt dist --prod` twice, the second
 * sending only the changed file → a build on a real runner followed to its end by
 * `sparki logs -f` → `sparki rollback`, after which the previous version serves again.
 */

const page = (version: string) => `<h1>journey ${version}</h1>\n`;
const repoFiles = pageSiteFiles('journey', page('from git'), 'built the journey site from git', {
  '.gitignore': 'dist/\n.sparki/\n',
});

interface Deployed {
  id: string;
  stage: string;
  status: string;
  production_url: string;
  upload: { files: number; blobs: number; bytes: number };
}

let build: BuildStack;
let configHome: string;
beforeAll(async () => {
  build = await startBuildStack('journey');
  configHome = await mkdtemp(join(tmpdir(), 'sparki-cli-journey-'));
}, 240_000);
afterAll(async () => {
  await build?.stop();
  if (configHome) await rm(configHome, { recursive: true, force: true });
});

describe('the CLI journey: login → link → deploy twice → logs -f → rollback', () => {
  it('signs in through the dashboard, deploys what changed, follows a build and rolls back', async () => {
    const { stack, owner } = build;
    const { project, repo } = await newRepoProject(build.api, {
      workspaceId: build.workspaceId,
      stateDir: stack.stateDir,
      slug: 'journey',
      files: repoFiles,
    });
    // As CI runs it: no terminal, CI set, only what `sparki login` stores.
    const env = isolatedEnv(configHome);
    const sparki = async (...args: string[]) => {
      const run = await runSparki(args, { cwd: repo, env });
      expect(run.code, `sparki ${args.join(' ')}:\n${run.stdout}\n${run.stderr}`).toBe(0);
      return run;
    };

    const login = startSparki(['login', '--url', stack.base], { cwd: repo, env });
    try {
      await approveInDashboard(stack, login, owner.email);
      expect(await login.exited).toBe(0);
    } finally {
      login.child.kill();
    }
    expect(login.output().stdout).toContain(`Signed in to ${stack.base} as ${owner.email}`);

    expect((await sparki('link')).stdout).toContain(project.id);

    const dist = join(repo, 'dist');
    await mkdir(join(dist, 'assets'), { recursive: true });
    await writeFile(join(dist, 'index.html'), page('prebuilt 1'));
    await writeFile(join(dist, 'assets', 'app.js'), 'console.log("journey")');
    const deploy = async () =>
      JSON.parse(
        (await sparki('deploy', '--prebuilt', 'dist', '--prod', '--json')).stdout,
      ) as Deployed;
    const first = await deploy();
    expect(first).toMatchObject({
      stage: 'production',
      status: 'live',
      upload: { files: 2, blobs: 2 },
    });
    const productionUrl = first.production_url;
    expect(await browse(`${productionUrl}/`)).toEqual({ status: 200, body: page('prebuilt 1') });

    await writeFile(join(dist, 'index.html'), page('prebuilt 2'));
    const second = await deploy();
    expect(second.upload).toEqual({
      files: 2,
      blobs: 1,
      bytes: Buffer.byteLength(page('prebuilt 2')),
    });
    expect(await browse(`${productionUrl}/`)).toEqual({ status: 200, body: page('prebuilt 2') });

    // A build of the repository's main on the runner, followed live from the CLI to its end.
    const queued = await build.api<{ id: string; number: number }>(
      'POST',
      `/api/projects/${project.id}/builds`,
      {},
    );
    const followed = await runSparki(['logs', '-f'], { cwd: repo, env });
    expect(followed.code, `${followed.stderr}\n${build.runnerOutput()}`).toBe(0);
    expect(followed.stdout).toContain('built the journey site from git');
    expect(followed.stderr).toContain(`Following build #${queued.number}`);
    expect(followed.stderr).toContain(`Build #${queued.number} succeeded`);
    await expect
      .poll(async () => (await browse(`${productionUrl}/`)).body, { timeout: 90_000 })
      .toBe(page('from git'));

    // Rolled back: the second prebuilt deployment serves again.
    const rolledBack = JSON.parse((await sparki('rollback', '--json')).stdout) as Deployed;
    expect(rolledBack.id).toBe(second.id);
    await expect
      .poll(async () => (await browse(`${productionUrl}/`)).body, { timeout: 10_000 })
      .toBe(page('prebuilt 2'));
  }, 420_000);
});
