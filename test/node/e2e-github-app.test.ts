import { createHmac, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubOAuthDouble, startGitHubOAuthDouble } from '../github-oauth-double';
import { browse, type E2E, githubPush, newRepo, pageSiteFiles, startE2E } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * Issue 13's "Done means" (a) in one run of real processes: the GitHub App created from its
 * manifest, installed, a repository imported, a signed push to the app's endpoint built by a
 * real `sparki runner`, live, and its commit status sent as the app through an installation
 * token. GitHub is the local stand-in (test/github-oauth-double.ts), which also serves the
 * repository for cloning over git's smart HTTP, as github.com does; the repository is private, so
 * the runner clones it with the installation token the job spec hands it.
 */

const INSTALLATION_ID = 4242;
const page = (version: string) => `<h1>shop ${version}</h1>\n`;
const shopFiles = pageSiteFiles('shop', page('v1'), 'built the shop', {
  'sparki.json': JSON.stringify({ outputDirectory: 'dist' }),
});

interface Deployment {
  build_id: string;
  stage: string;
  status: string;
}

describe('GitHub App: manifest → install → import → push → build → live, end to end', () => {
  let gitRoot: string;
  let github: GitHubOAuthDouble;
  let e2e: E2E;

  beforeAll(async () => {
    gitRoot = await mkdtemp(join(tmpdir(), 'sparki-github-repos-'));
    // Private: the stand-in serves it only to an installation token that reads it.
    github = await startGitHubOAuthDouble({ gitRoot, privateRepos: ['octo-org/shop'] });
    // The Worker reaches "GitHub" at the stand-in: wrangler dev passes these on with
    // CLOUDFLARE_INCLUDE_PROCESS_ENV.
    e2e = await startE2E(
      { 'README.md': 'unused\n' },
      {
        GITHUB_API_BASE_URL: github.apiBaseUrl,
        GITHUB_OAUTH_BASE_URL: github.oauthBaseUrl,
        CLOUDFLARE_INCLUDE_PROCESS_ENV: 'true',
      },
    );
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (e2e) await e2e.stop();
    await github?.close();
    if (gitRoot) await rm(gitRoot, { recursive: true, force: true });
  });

  /** A delivery to the app's webhook, signed with its secret, as GitHub sends it. */
  async function deliver(appId: number, secret: string, event: string, payload: unknown) {
    const body = JSON.stringify(payload);
    const response = await fetch(`${e2e.base}/webhooks/github-app`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': randomUUID(),
        'x-github-hook-installation-target-id': String(appId),
        'x-github-hook-installation-target-type': 'integration',
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('builds a push to an imported repository on a real runner, serves it and reports as the app', async () => {
    const workspace = `/api/workspaces/${e2e.workspaceId}/github-app`;
    await mkdir(join(gitRoot, 'octo-org'));
    const commit = await newRepo(join(gitRoot, 'octo-org', 'shop.git'), shopFiles);

    // 1. The manifest, posted as the admin's browser posts it; GitHub sends it back with a code.
    const started = await e2e.api<{ post_url: string; manifest: unknown }>(
      'POST',
      `${workspace}/manifest`,
    );
    const created = await fetch(started.post_url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ manifest: JSON.stringify(started.manifest) }).toString(),
    });
    expect(created.status).toBe(302);
    const back = new URL(created.headers.get('location')!);
    const callback = await fetch(`${e2e.base}${back.pathname}${back.search}`, {
      redirect: 'manual',
    });
    expect(callback.status, await callback.clone().text()).toBe(302);
    expect(callback.headers.get('location')).toContain('github_app=connected');
    const { app_id: appId } = await e2e.api<{ app_id: number }>('GET', workspace);
    const app = github.apps.get(appId)!;
    expect(app.converted).toBe(true);

    // 2. Installed on the repository: GitHub's installation event reaches the app's webhook.
    const installed = await deliver(appId, app.webhookSecret, 'installation', {
      action: 'created',
      installation: { id: INSTALLATION_ID },
      repositories: [{ id: 1, name: 'shop', full_name: 'octo-org/shop', private: true }],
    });
    expect(installed.status, JSON.stringify(installed.body)).toBe(200);

    // 3. Imported as a project.
    const listed = await e2e.api<{ repositories: { full_name: string }[] }>(
      'GET',
      `${workspace}/repositories`,
    );
    expect(listed.repositories.map((repo) => repo.full_name)).toEqual(['octo-org/shop']);
    const project = await e2e.api<{ id: string; repo_url: string }>('POST', `${workspace}/import`, {
      repository: 'octo-org/shop',
      production_branch: 'main',
    });
    expect(project.repo_url).toBe(`${github.oauthBaseUrl}/octo-org/shop.git`);
    // Without credentials "GitHub" does not even list its refs.
    const anonymous = await fetch(`${project.repo_url}/info/refs?service=git-upload-pack`);
    expect(anonymous.status).toBe(401);

    // 4. A new commit pushed: GitHub's signed push event at the app's endpoint queues its build.
    const runner = await e2e.registerRunner('runner-github-app');
    e2e.startRunner(runner.config);
    const sha = await commit({ 'page.html': page('v2') }, 'v2');
    const pushed = await deliver(
      appId,
      app.webhookSecret,
      'push',
      githubPush({ cloneUrl: project.repo_url, sha }),
    );
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(202);
    expect(pushed.body).toMatchObject({ status: 'queued', project_id: project.id });
    const buildId = pushed.body.build_id as string;

    // 5. The runner clones it from "GitHub", builds it, and it goes live in production.
    const build = await e2e.buildSucceeded(buildId, 120_000);
    expect(build).toMatchObject({ commit_sha: sha, runner_id: runner.id });
    await e2e.waitFor(
      'the build live in production',
      async () =>
        (
          await e2e.api<{ deployments: Deployment[] }>(
            'GET',
            `/api/projects/${project.id}/deployments`,
          )
        ).deployments.some(
          (d) => d.build_id === buildId && d.stage === 'production' && d.status === 'live',
        ),
      90_000,
    );
    const { production_url: productionUrl } = await e2e.api<{ production_url: string }>(
      'GET',
      `/api/projects/${project.id}`,
    );
    expect(await browse(`${productionUrl}/`)).toEqual({ status: 200, body: page('v2') });

    // It was cloned with a token the spec carried, that reads only this repository, and that
    // the build log never shows.
    const cloneTokens = github.installationTokens
      .issued()
      .filter(([, issued]) => issued.repositories?.join() === 'shop');
    expect(cloneTokens.length).toBeGreaterThan(0);
    expect(cloneTokens[0]![1]).toMatchObject({ appId, permissions: { contents: 'read' } });
    const log = await (
      await fetch(`${e2e.base}/api/builds/${buildId}/logs.txt`, {
        headers: { authorization: `Bearer ${e2e.token()}` },
      })
    ).text();
    expect(log).toContain('Checked out');
    for (const [token] of cloneTokens) expect(log).not.toContain(token);

    // 6. GitHub received the commit's statuses through an installation token of the app.
    const reported = await e2e.waitFor(
      'the success status on GitHub',
      async () =>
        github.statuses.find(
          (s) => s.sha === sha && s.context === 'sparki/build' && s.state === 'success',
        ),
      60_000,
    );
    expect(reported).toMatchObject({
      repo: 'octo-org/shop',
      appId,
      installationId: INSTALLATION_ID,
    });
    const states = github.statuses
      .filter((s) => s.sha === sha && s.context === 'sparki/build')
      .map((s) => s.state);
    expect(states.at(-1)).toBe('success');
    expect(github.statuses.every((s) => s.installationId === INSTALLATION_ID)).toBe(true);
  }, 300_000);
});
