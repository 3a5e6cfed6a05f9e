import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHostDouble, startGitHostDouble } from '../git-host-double';
import { type BrowserStack, startBrowserStack } from './harness';

/**
 * The project page's form that has Sparki create the repository's webhook on Gitea (GitLab is
 * the same form) with a token the admin types in, against the local stand-in for the server
 * (test/git-host-double.ts).
 */
let stack: BrowserStack;
let host: GitHostDouble;
beforeAll(async () => {
  host = await startGitHostDouble();
  stack = await startBrowserStack();
});
afterAll(async () => {
  await stack?.stop();
  await host?.close();
});

const hooksOf = (path: string) => host.state.repos.find((repo) => repo.path === path)!.hooks;

describe('the webhook form of a Gitea project', () => {
  it('explains refused tokens, creates the hook, updates it after a new secret, and removes it', async () => {
    const user = await stack.newUser('hooks');
    const workspace = await stack.api<{ id: string }>(
      'POST',
      '/api/workspaces',
      { name: 'Hooks', slug: `hooks-${Date.now()}` },
      user.token,
    );
    const path = `acme/site-${Date.now()}`;
    const { clone_url } = await host.setUp<{ clone_url: string }>('repos', {
      provider: 'gitea',
      path,
    });
    const tokenFor = (scopes: string[]) =>
      host
        .setUp<{ token: string }>('tokens', {
          provider: 'gitea',
          scopes,
          access: { [path]: 'admin' },
        })
        .then((answer) => answer.token);
    const readOnly = await tokenFor(['read:repository']);
    const token = await tokenFor(['write:repository']);
    const project = await stack.api<{ id: string }>(
      'POST',
      `/api/workspaces/${workspace.id}/projects`,
      { name: 'site', slug: 'site', git_provider: 'gitea', repo_url: clone_url },
      user.token,
    );

    const page = await stack.newPage();
    await stack.signIn(page, user.email);
    await page.goto(`/projects/${project.id}`);
    const card = page.getByRole('region', { name: 'Webhook on Gitea' });
    const shown = (text: string | RegExp) => card.getByText(text).count();
    const heading = () => card.getByRole('heading').textContent();
    await expect.poll(() => shown('No webhook was created by Sparki on Gitea yet.')).toBe(1);
    expect(await heading()).toBe('Create the webhook on Gitea');
    const tokenField = card.getByLabel('Gitea access token');
    const submit = (name: string) => card.getByRole('button', { name }).click();

    // Refused tokens: the server's refusal, in Sparki's words, and nothing created.
    await tokenField.fill('not-a-token');
    await submit('Create the webhook');
    await expect.poll(() => shown(/Gitea did not accept the token \(401\)/)).toBe(1);
    await tokenField.fill(readOnly);
    await submit('Create the webhook');
    await expect
      .poll(() => shown(/Gitea refused the token \(403\): it needs the write:repository scope/))
      .toBe(1);
    expect(hooksOf(path)).toEqual([]);

    await tokenField.fill(token);
    await submit('Create the webhook');
    await expect.poll(() => shown(/^Created webhook #\d+ on Gitea/)).toBe(1);
    const [hook] = hooksOf(path);
    expect(hook!.url).toMatch(new RegExp(`/webhooks/gitea/${project.id}$`));
    await expect.poll(() => shown(`Webhook #${hook!.id} on Gitea (${path}), set up`)).toBe(1);
    // Once there, the card no longer asks to create it.
    await expect.poll(heading).toBe('Webhook on Gitea');
    expect(await tokenField.inputValue()).toBe('');
    expect(await page.content()).not.toContain(token);
    await stack.screenshot(page, 'git-hook-created');

    // A new webhook secret leaves the hook with the old one: the form says so, an update fixes it.
    await page.getByRole('button', { name: 'Replace webhook secret' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Replace secret' }).click();
    const stale = /The webhook secret was replaced after this hook was made/;
    await expect.poll(() => shown(stale)).toBe(1);
    const oldSecret = hook!.secret;
    await tokenField.fill(token);
    await submit('Update the webhook');
    await expect
      .poll(() => shown(`Updated webhook #${hook!.id} on Gitea: pushes now start builds.`))
      .toBe(1);
    await expect.poll(() => shown(stale)).toBe(0);
    expect(hooksOf(path)).toHaveLength(1);
    expect(hooksOf(path)[0]!.secret).not.toBe(oldSecret);

    // Removing it with the token deletes it on Gitea too.
    await tokenField.fill(token);
    await card.getByRole('button', { name: 'Remove the webhook' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Remove the webhook' }).click();
    await expect.poll(() => shown('Removed the webhook from Gitea.')).toBe(1);
    await expect.poll(() => shown('No webhook was created by Sparki on Gitea yet.')).toBe(1);
    await expect.poll(heading).toBe('Create the webhook on Gitea');
    expect(hooksOf(path)).toEqual([]);
  });
});
