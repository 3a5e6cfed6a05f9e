import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLink } from '../../cli/client';
import { runSparki } from '../../cli/spawn-sparki';
import { type GitHostDouble, startGitHostDouble } from '../git-host-double';
import { browse, type E2E, newRepo, startE2E, versionedSite } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * A repository on GitLab or Gitea (the local stand-in, test/git-host-double.ts, which also serves
 * the repository over git's smart HTTP): `sparki webhook create` has Sparki create the hook with
 * the user's token, then the stand-in delivers a push to the URL with the secret it was given,
 * as the real server would, and a real runner builds the commit and it goes live.
 */
const files = (version: string) => versionedSite('hooked', version);

describe('a webhook Sparki creates on GitLab and Gitea, end to end', () => {
  let e2e: E2E;
  let host: GitHostDouble;

  beforeAll(async () => {
    host = await startGitHostDouble();
    e2e = await startE2E(files('v1'));
    const runner = await e2e.registerRunner('hook-runner');
    e2e.startRunner(runner.config);
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (e2e) await e2e.stop();
    await host?.close();
  });

  it.each(['gitlab', 'gitea'] as const)(
    '%s: the CLI creates the hook, a push the server delivers builds and goes live',
    async (provider) => {
      const repoDir = join(e2e.stateDir, `repo-${provider}`);
      const commit = await newRepo(repoDir, files('v1'));
      const path = `acme/site-${provider}`;
      const { clone_url } = await host.setUp<{ clone_url: string }>('repos', {
        provider,
        path,
        git_dir: join(repoDir, '.git'),
      });
      const { token } = await host.setUp<{ token: string }>('tokens', {
        provider,
        scopes: [provider === 'gitlab' ? 'api' : 'write:repository'],
        access: { [path]: provider === 'gitlab' ? 'maintainer' : 'admin' },
      });
      const project = await e2e.api<{ id: string }>(
        'POST',
        `/api/workspaces/${e2e.workspaceId}/projects`,
        { name: provider, slug: `site-${provider}`, git_provider: provider, repo_url: clone_url },
      );
      await e2e.api('PATCH', `/api/projects/${project.id}/settings`, {
        overrides: { installCommand: null, outputDirectory: 'dist' },
      });

      const tree = await mkdtemp(join(tmpdir(), `sparki-e2e-hook-${provider}-`));
      await writeLink(tree, {
        project_id: project.id,
        workspace_id: e2e.workspaceId,
        url: e2e.base,
      });
      const env = {
        ...process.env,
        CI: 'true',
        XDG_CONFIG_HOME: join(tree, 'config'),
        SPARKI_URL: e2e.base,
        SPARKI_TOKEN: e2e.token(),
      };
      const needsToken = await runSparki(['webhook', 'create'], { cwd: tree, env });
      expect(needsToken.code, needsToken.stderr).toBe(4);
      expect(needsToken.stderr).toContain('SPARKI_GIT_TOKEN');

      const created = await runSparki(['webhook', 'create'], {
        cwd: tree,
        env: { ...env, SPARKI_GIT_TOKEN: token },
      });
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toMatch(/^Webhook #\d+ on (GitLab|Gitea) \(acme\/site-/);
      expect(`${created.stdout}${created.stderr}`).not.toContain(token);
      const shown = await runSparki(['webhook', 'show', '--json'], { cwd: tree, env });
      expect(JSON.parse(shown.stdout)).toMatchObject({
        installed: true,
        provider,
        repository: path,
      });
      const [hook, ...others] = host.state.repos.find((repo) => repo.path === path)!.hooks;
      expect(others).toEqual([]);
      expect(hook!.url).toMatch(new RegExp(`/webhooks/${provider}/${project.id}$`));

      const sha = await commit({ 'version.txt': 'v2' }, 'v2');
      const [delivered] = await host.push(provider, path, { ref: 'refs/heads/main', after: sha });
      expect(delivered!.status, delivered!.answer).toBe(202);
      const answer = JSON.parse(delivered!.answer) as { status: string; build_id: string };
      expect(answer.status).toBe('queued');
      const build = await e2e.buildSucceeded(answer.build_id);
      expect(build.commit_sha).toBe(sha);
      await e2e.waitFor(
        `${provider} project to serve v2`,
        async () => {
          const { production_url } = await e2e.api<{ production_url: string | null }>(
            'GET',
            `/api/projects/${project.id}`,
          );
          if (!production_url) return false;
          const page = await browse(production_url);
          return page.status === 200 && page.body === 'v2';
        },
        60_000,
      );
    },
    240_000,
  );
});
