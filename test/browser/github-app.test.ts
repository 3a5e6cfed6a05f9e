import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubOAuthDouble, startGitHubOAuthDouble } from '../github-oauth-double';
import { type BrowserStack, startBrowserStack } from './harness';

let stack: BrowserStack;
let github: GitHubOAuthDouble;
let owner: { email: string; token: string };
let workspaceId: string;

beforeAll(async () => {
  // GitHub's double stands in for github.com (the new-app page) and its API (the conversion);
  // wrangler dev takes both URLs from the environment with CLOUDFLARE_INCLUDE_PROCESS_ENV.
  github = await startGitHubOAuthDouble();
  const env: Record<string, string | undefined> = process.env;
  const saved = { ...env };
  env.GITHUB_API_BASE_URL = github.apiBaseUrl;
  env.GITHUB_OAUTH_BASE_URL = github.oauthBaseUrl;
  env.CLOUDFLARE_INCLUDE_PROCESS_ENV = 'true';
  const keys = ['GITHUB_API_BASE_URL', 'GITHUB_OAUTH_BASE_URL', 'CLOUDFLARE_INCLUDE_PROCESS_ENV'];
  try {
    stack = await startBrowserStack();
  } finally {
    for (const key of keys) {
      if (saved[key] === undefined) Reflect.deleteProperty(env, key);
      else env[key] = saved[key];
    }
  }
  owner = await stack.newUser('owner');
  workspaceId = (
    await stack.api<{ id: string }>(
      'POST',
      '/api/workspaces',
      { name: 'Octo Team', slug: `octo-${Date.now()}` },
      owner.token,
    )
  ).id;
}, 240_000);
afterAll(async () => {
  await stack?.stop();
  await github?.close();
});

/** What GitHub sends the app's webhook when it is installed on `repos`. */
async function installOn(appId: number, secret: string, repos: string[]) {
  const body = JSON.stringify({
    action: 'created',
    installation: { id: 4242 },
    repositories: repos.map((full_name, i) => ({ id: i + 1, full_name, private: false })),
  });
  const response = await fetch(`${stack.base}/webhooks/github-app`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'installation',
      'x-github-delivery': randomUUID(),
      'x-github-hook-installation-target-id': String(appId),
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
  });
  expect(response.status, await response.text()).toBe(200);
}

describe('Connect GitHub on the new project page', () => {
  it('creates the app on GitHub, lists the repositories it reaches and imports one', async () => {
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`${stack.base}/w/${workspaceId}/projects/new`);
    await page.getByRole('button', { name: 'Connect GitHub' }).click();
    // GitHub's page (the double) creates the app and sends the browser back through the callback.
    await page.waitForURL(/github_app=connected/, { timeout: 15_000 });
    await expect
      .poll(() => page.getByText(/not installed on any repository yet/).count(), {
        timeout: 15_000,
      })
      .toBe(1);
    await stack.screenshot(page, 'github-app-connected');

    const [app] = [...github.apps.values()];
    expect(app).toBeDefined();
    await installOn(app!.id, app!.webhookSecret, ['octo-org/shop']);
    await page.reload();
    const importButton = page.getByRole('button', { name: 'Import octo-org/shop' });
    await importButton.waitFor({ timeout: 15_000 });
    await stack.screenshot(page, 'github-app-repositories');
    await importButton.click();
    await page.waitForURL(/\/projects\/[0-9a-f-]{36}/, { timeout: 15_000 });
    const projects = await stack.api<{ projects: { repo_url: string; git_provider: string }[] }>(
      'GET',
      `/api/workspaces/${workspaceId}/projects`,
      undefined,
      owner.token,
    );
    expect(projects.projects).toEqual([
      expect.objectContaining({
        repo_url: `${github.oauthBaseUrl}/octo-org/shop.git`,
        git_provider: 'github',
      }),
    ]);
  }, 120_000);
});
