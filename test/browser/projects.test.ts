import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubOAuthDouble, startGitHubOAuthDouble } from '../github-oauth-double';
import { git } from '../node/e2e-helpers';
import { type BrowserStack, startBrowserStack } from './harness';

let stack: BrowserStack;
let github: GitHubOAuthDouble;

/** Pages load and refetch on their own time: a check waits for them, up to a bound. */
const poll = <T>(check: () => Promise<T>) => expect.poll(check, { timeout: 15_000 });
let owner: { email: string; token: string };
let workspaceId: string;
let repo: string;

beforeAll(async () => {
  // GitHub's double serves a public repository for the detection preview; wrangler dev takes
  // GITHUB_API_BASE_URL from the environment with CLOUDFLARE_INCLUDE_PROCESS_ENV.
  github = await startGitHubOAuthDouble();
  const env: Record<string, string | undefined> = process.env;
  const saved = { ...env };
  env.GITHUB_API_BASE_URL = github.apiBaseUrl;
  env.CLOUDFLARE_INCLUDE_PROCESS_ENV = 'true';
  try {
    stack = await startBrowserStack();
  } finally {
    // The stack's processes have their copy; nothing else in this process should see them.
    for (const key of ['GITHUB_API_BASE_URL', 'CLOUDFLARE_INCLUDE_PROCESS_ENV']) {
      if (saved[key] === undefined) Reflect.deleteProperty(env, key);
      else env[key] = saved[key];
    }
  }
  owner = await stack.newUser('owner');
  workspaceId = (
    await stack.api<{ id: string }>(
      'POST',
      '/api/workspaces',
      { name: 'Shop Team', slug: `shop-${Date.now()}` },
      owner.token,
    )
  ).id;
  // A repository on this machine: the local stack's runners could build it; nothing else reads it.
  repo = join(stack.stateDir, 'shop');
  await mkdir(repo);
  git(repo, 'init', '--quiet', '--initial-branch=main');
  await writeFile(
    join(repo, 'package.json'),
    JSON.stringify({ scripts: { build: 'vite build' }, devDependencies: { vite: '^7.0.0' } }),
  );
  git(repo, 'add', '.');
  git(repo, 'commit', '--quiet', '-m', 'v1');
}, 240_000);
afterAll(async () => {
  await stack?.stop();
  await github?.close();
});

/** Starts a build of `branch` through the overview's form and its confirmation dialog. */
async function startBuild(page: Page, branch: string, number: number) {
  await page.getByLabel('Branch to build').fill(branch);
  await page.getByRole('button', { name: 'Start build' }).click();
  const dialog = page.getByRole('alertdialog');
  await poll(() => dialog.textContent()).toContain(`head of ${branch}`);
  await dialog.getByRole('button', { name: 'Start build' }).click();
  // The answer tells the build as it was then: queued, or already planned.
  await poll(() =>
    page
      .getByRole('status')
      .filter({ hasText: `Build #${number}` })
      .count(),
  ).toBe(1);
  expect(
    await page
      .getByRole('status')
      .filter({ hasText: `Build #${number}` })
      .textContent(),
  ).toMatch(new RegExp(`^Build #${number} of ${branch} is (queued|planned)\\.$`));
}

const buildNumbers = async (page: Page) =>
  Promise.all(
    (await page.locator('tr[data-build]').all()).map((row) => row.getAttribute('data-build')),
  );

describe('projects', () => {
  it('creates a project on a local repository, builds it, and lists and filters its builds', async () => {
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`/w/${workspaceId}/projects`);
    await poll(() => page.getByText('No projects yet').count()).toBe(1);
    await stack.screenshot(page, 'projects-empty');

    await page.getByRole('link', { name: 'New project' }).click();
    await page.waitForURL(`**/w/${workspaceId}/projects/new`);
    await page.getByLabel('Repository URL').fill(repo);
    expect(await page.getByLabel('Name').inputValue()).toBe('shop');
    expect(await page.getByLabel('Slug').inputValue()).toBe('shop');
    await page.getByLabel('Git provider').selectOption('github');
    // A local path: only a runner reads it, so detection waits for the first build.
    await page.getByRole('button', { name: 'Preview detection' }).click();
    await poll(() => page.getByText('Only a runner can read this repository').count()).toBe(1);
    expect(await page.getByText('Detected on the first build').count()).toBe(1);
    await stack.screenshot(page, 'projects-new');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
    const projectId = new URL(page.url()).pathname.split('/').pop()!;

    // The overview hands over the webhook URL and, once, the secret.
    await poll(() => page.getByLabel('GitHub payload URL', { exact: true }).inputValue()).toBe(
      `${stack.base}/webhooks/github/${projectId}`,
    );
    const secret = await page.getByLabel('Webhook secret', { exact: true }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    expect(await page.getByRole('button', { name: 'Copy webhook secret' }).count()).toBe(1);
    await poll(() => page.getByText('No builds yet').count()).toBe(1);
    await poll(() => page.getByText('No deployments yet').count()).toBe(1);

    await startBuild(page, 'main', 1);
    await startBuild(page, 'feature', 2);
    await poll(() => buildNumbers(page)).toEqual(['2', '1']);
    await stack.screenshot(page, 'projects-overview');

    // Reloaded, the secret is gone; an owner can replace it (and sees the new one once).
    await page.reload();
    await poll(() => page.getByText('was shown once').count()).toBe(1);
    expect(await page.getByLabel('Webhook secret', { exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Replace webhook secret' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Replace secret' }).click();
    await poll(
      async () => (await page.getByLabel('Webhook secret', { exact: true }).count()) > 0,
    ).toBe(true);
    const replaced = await page.getByLabel('Webhook secret', { exact: true }).inputValue();
    expect(replaced).toMatch(/^whsec_/);
    expect(replaced).not.toBe(secret);

    // The builds list, its filters in the URL.
    await page.getByRole('link', { name: 'Builds', exact: true }).click();
    await page.waitForURL(`**/projects/${projectId}/builds`);
    await poll(() => buildNumbers(page)).toEqual(['2', '1']);
    await page.getByLabel('Branch', { exact: true }).fill('feature');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.waitForURL(/\?branch=feature$/);
    await poll(() => buildNumbers(page)).toEqual(['2']);
    await stack.screenshot(page, 'projects-builds');
    // Reloading keeps the filter; a trigger no build had empties the list.
    await page.reload();
    await poll(() => buildNumbers(page)).toEqual(['2']);
    expect(await page.getByLabel('Branch', { exact: true }).inputValue()).toBe('feature');
    await page.getByLabel('Trigger').selectOption('push');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await poll(() => page.getByText('No builds match these filters').count()).toBe(1);
    expect(new URL(page.url()).searchParams.get('trigger')).toBe('push');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await poll(() => buildNumbers(page)).toEqual(['2', '1']);
    // Live: a build canceled elsewhere changes here without a reload.
    const [first] = (
      await stack.api<{ builds: { id: string }[] }>(
        'GET',
        `/api/projects/${projectId}/builds?branch=main`,
        undefined,
        owner.token,
      )
    ).builds;
    await stack.api('POST', `/api/builds/${first!.id}/cancel`, undefined, owner.token);
    await poll(() => page.locator('tr[data-build="1"]').textContent()).toContain('canceled');
    await stack.screenshot(page, 'projects-builds-all');
    // The dark theme, for a look.
    await page.evaluate("localStorage.setItem('sparki.theme', 'dark')");
    await page.reload();
    await poll(() => buildNumbers(page)).toEqual(['2', '1']);
    await stack.screenshot(page, 'projects-builds-dark');
    await page.evaluate("localStorage.setItem('sparki.theme', 'light')");
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await poll(() => page.getByText('No builds match these filters').count()).toBe(1);

    // The projects list tells where the project stands.
    await page.goto(`/w/${workspaceId}/projects`);
    const row = page.getByRole('row').filter({ hasText: 'shop' });
    await poll(() => row.textContent()).toContain('build #2');
    // Waiting for a runner: queued, or planned once its steps are laid out.
    expect(await row.textContent()).toMatch(/queued|planned/);
    expect(await row.textContent()).toContain('Not live');
    await stack.screenshot(page, 'projects-list');
    // On a phone the table scrolls sideways inside its frame; the page itself does not.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      390,
    );
    await stack.screenshot(page, 'projects-list-phone');
  });

  it('shows the API’s refusals (a bad URL to preview, a taken slug) with their request ids', async () => {
    await stack.api(
      'POST',
      `/api/workspaces/${workspaceId}/projects`,
      { name: 'Taken', slug: 'taken', git_provider: 'none' },
      owner.token,
    );
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`/w/${workspaceId}/projects/new`);
    // A URL the API refuses: the preview shows its message and request id.
    await page.getByLabel('Repository URL').fill('acme/taken');
    await page.getByRole('button', { name: 'Preview detection' }).click();
    await poll(() => page.getByRole('alert').count()).toBe(1);
    expect(await page.getByRole('alert').textContent()).toContain('request id');
    await page.getByLabel('Repository URL').fill('https://example.com/acme/taken.git');
    await poll(() => page.getByRole('alert').count()).toBe(0);
    await page.getByRole('button', { name: 'Create project' }).click();
    const alert = page.getByRole('alert');
    await poll(() => alert.textContent()).toContain('The slug "taken" is taken here');
    expect(await alert.textContent()).toContain('request id');
    expect(page.url()).toMatch(/\/projects\/new$/);
  });

  it('previews what a public GitHub repository will build as', async () => {
    await fetch(`${github.oauthBaseUrl}/_test/repos`, {
      method: 'POST',
      body: JSON.stringify({
        repo: 'acme/storefront',
        ref: 'main',
        files: {
          'package.json': JSON.stringify({
            scripts: { build: 'astro build' },
            dependencies: { astro: '^5.0.0' },
          }),
          'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
        },
      }),
    });
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`/w/${workspaceId}/projects/new`);
    await page.getByLabel('Repository URL').fill('https://github.com/acme/storefront.git');
    expect(await page.getByLabel('Git provider').inputValue()).toBe('github');
    await page.getByRole('button', { name: 'Preview detection' }).click();
    await poll(() => page.getByText('Read from GitHub just now').count()).toBe(1);
    const found = await page.locator('dl').textContent();
    expect(found).toContain('astro');
    expect(found).toContain('pnpm');
    await stack.screenshot(page, 'projects-new-detected');
    // A root directory the repository lacks: detection would fail, and says why.
    await page.getByLabel('Root directory').fill('apps/web');
    await page.getByRole('button', { name: 'Preview detection' }).click();
    await poll(() => page.getByText('Detection would fail').count()).toBe(1);
    expect(await page.getByText('apps/web').count()).toBeGreaterThan(0);
  });

  it('pages through a long builds list with Older builds', async () => {
    const project = await stack.api<{ id: string }>(
      'POST',
      `/api/workspaces/${workspaceId}/projects`,
      { name: 'Busy', slug: 'busy', git_provider: 'none', repo_url: repo },
      owner.token,
    );
    for (let n = 0; n < 21; n++) {
      await stack.api(
        'POST',
        `/api/projects/${project.id}/builds`,
        { branch: `b${n}` },
        owner.token,
      );
    }
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`/projects/${project.id}/builds`);
    await poll(async () => (await buildNumbers(page)).length).toBe(20);
    expect((await buildNumbers(page))[0]).toBe('21');
    await page.getByRole('button', { name: 'Older builds' }).click();
    await poll(async () => (await buildNumbers(page)).length).toBe(21);
    expect((await buildNumbers(page)).at(-1)).toBe('1');
    expect(await page.getByRole('button', { name: 'Older builds' }).count()).toBe(0);
  });

  it('shows a viewer no New project, Start build or Replace secret', async () => {
    const viewer = await stack.newUser('viewer');
    await stack.api(
      'POST',
      `/api/workspaces/${workspaceId}/invites`,
      { email: viewer.email, role: 'viewer' },
      owner.token,
    );
    const mail = await stack.api<{ messages: { subject: string; text: string }[] }>(
      'GET',
      `/dev/mailbox/${encodeURIComponent(viewer.email)}`,
    );
    const invite = mail.messages.filter((message) => /invited/i.test(message.subject)).at(-1);
    const token = /#token=([A-Za-z0-9_-]+)/.exec(invite?.text ?? '')?.[1];
    await stack.api('POST', '/api/invites/accept', { token }, viewer.token);

    const page = await stack.newPage();
    await stack.signIn(page, viewer.email);
    await page.goto(`/w/${workspaceId}/projects`);
    await poll(() => page.getByRole('link', { name: 'shop' }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'New project' }).count()).toBe(0);

    await page.getByRole('link', { name: 'shop' }).click();
    await poll(() => page.getByRole('heading', { name: 'Latest builds' }).count()).toBe(1);
    await poll(() => buildNumbers(page)).toEqual(['2', '1']);
    expect(await page.getByRole('button', { name: 'Start build' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Replace webhook secret' }).count()).toBe(0);
    expect(await page.getByText('An admin of the workspace can replace it').count()).toBe(1);

    await page.goto(`/w/${workspaceId}/projects/new`);
    await poll(() => page.getByText('You cannot create projects here').count()).toBe(1);
    expect(await page.getByLabel('Repository URL').count()).toBe(0);
  });
});
