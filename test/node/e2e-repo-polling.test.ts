import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Build, browse, type E2E, startE2E, versionedSite } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * A repository on the user's own machine, with no webhook at all (issue 13, item 2): a real
 * `sparki runner` polls its branch heads, and `sparki hooks install`'s hook asks for a poll the
 * moment a commit is made. A commit on main goes live either way.
 */
const execFileAsync = promisify(execFile);
const BIN = join(import.meta.dirname, '../../cli/bin.mjs');

const files = (version: string) => versionedSite('laptop', version);

describe('a local repository without a webhook, end to end', () => {
  let e2e: E2E;

  beforeAll(async () => {
    e2e = await startE2E(files('v1'));
    const runner = await e2e.registerRunner('laptop-runner');
    e2e.startRunner(runner.config);
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (e2e) await e2e.stop();
  });

  type Project = Awaited<ReturnType<E2E['newProject']>>;

  /** The build of `sha`, once one exists. */
  const buildOf = (project: Project, sha: string, ms = 60_000) =>
    e2e.waitFor(
      `a build of ${sha}`,
      async () => (await project.projectBuilds()).find((build: Build) => build.commit_sha === sha),
      ms,
    );

  /** Waits until the project's production URL (set once something is live) serves `body`. */
  async function serves(projectId: string, body: string) {
    await e2e.waitFor(
      `project ${projectId} to serve ${body}`,
      async () => {
        const { production_url } = await e2e.api<{ production_url: string | null }>(
          'GET',
          `/api/projects/${projectId}`,
        );
        if (!production_url) return false;
        const page = await browse(production_url);
        return page.status === 200 && page.body === body;
      },
      60_000,
    );
  }

  it('a commit on main: the runner’s poll finds it, builds it and it goes live', async () => {
    const project: Project = {
      project: e2e.project,
      repo: e2e.repo,
      commit: e2e.commit,
      deliver: e2e.deliver,
      projectBuilds: e2e.projectBuilds,
    };
    await e2e.api('PATCH', `/api/projects/${project.project.id}/settings`, {
      poll_interval_seconds: 5,
    });
    // The first poll records the heads and builds main's.
    const first = await buildOf(project, (await git(project.repo, 'rev-parse', 'HEAD')).trim());
    await e2e.buildSucceeded(first.id);
    await serves(project.project.id, 'v1');

    const sha = await project.commit({ 'version.txt': 'v2' }, 'v2');
    const second = await buildOf(project, sha);
    expect(second).toMatchObject({ commit_sha: sha });
    await e2e.buildSucceeded(second.id);
    await serves(project.project.id, 'v2');
    // The same head at every later poll: still one build per commit.
    const builds = await project.projectBuilds();
    expect(builds.filter((build) => build.commit_sha === sha)).toHaveLength(1);
  }, 240_000);

  it('the installed git hook triggers the build at once, without waiting for the poll', async () => {
    const project = await e2e.newProject(files('h1'), 'hooked');
    // An hour between polls: only the hook can explain a build of the next commit in time.
    await e2e.api('PATCH', `/api/projects/${project.project.id}/settings`, {
      poll_interval_seconds: 3600,
    });
    const first = await buildOf(project, (await git(project.repo, 'rev-parse', 'HEAD')).trim());
    await e2e.buildSucceeded(first.id);

    const { token } = await e2e.api<{ token: string }>('POST', '/api/me/tokens', {
      name: 'git hook',
      workspace_id: e2e.workspaceId,
      scope: 'write',
    });
    const { SPARKI_TOKEN: _unset, ...env } = process.env;
    await execFileAsync(
      process.execPath,
      [
        BIN,
        'hooks',
        'install',
        '--url',
        e2e.base,
        '--project',
        project.project.id,
        '--token',
        token,
      ],
      { cwd: project.repo, env },
    );

    const sha = await project.commit({ 'version.txt': 'h2' }, 'h2');
    const second = await buildOf(project, sha, 45_000).catch(async (error) => {
      const log = await readFile(join(project.repo, '.git/sparki/hook.log'), 'utf8').catch(
        () => '(no hook log)',
      );
      throw new Error(`${(error as Error).message}\nhook log:\n${log}`);
    });
    await e2e.buildSucceeded(second.id);
    await serves(project.project.id, 'h2');
    expect(await readFile(join(project.repo, '.git/sparki/hook.log'), 'utf8')).toContain(
      'polls project',
    );
  }, 240_000);
});

async function git(cwd: string, ...args: string[]) {
  return (await execFileAsync('git', args, { cwd })).stdout;
}
