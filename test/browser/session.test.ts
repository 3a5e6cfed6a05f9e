import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserStack, startBrowserStack } from './harness';

let stack: BrowserStack;
beforeAll(async () => {
  stack = await startBrowserStack();
});
afterAll(() => stack?.stop());

describe('the dashboard session', () => {
  it('signs in with the __Host- cookies under Chromium on http://localhost and uses them', async () => {
    const { email } = await stack.newUser('cookie');
    const page = await stack.newPage();
    await page.goto('/');
    // Signed out: the dashboard sends the visitor to sign in, and back afterwards.
    await page.waitForURL(/\/sign-in\?return_to=/);
    await stack.signIn(page, email);

    const cookies = await page.context().cookies();
    const names = cookies.map((cookie) => cookie.name);
    expect(names).toEqual(expect.arrayContaining(['__Host-sparki_at', '__Host-sparki_rt']));
    for (const cookie of cookies) expect(cookie).toMatchObject({ httpOnly: true, secure: true });

    // A first sign-in has no workspace yet: the dashboard asks for one, with the cookie alone.
    await page.waitForURL('**/workspaces/new');
    await expect.poll(() => page.getByRole('link', { name: email }).count()).toBe(1);
    // Longer than the 40 characters a workspace slug may have: the slug guessed from it stops there.
    await page.getByLabel('Workspace name').fill('Cookie Team, a name longer than any slug may be');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.waitForURL(/\/w\/[0-9a-f-]+\/projects$/);
    await stack.screenshot(page, 'workspace-projects');
  });

  it("opened directly on a project, the switcher shows the project's workspace", async () => {
    const user = await stack.newUser('direct');
    const workspace = await stack.api<{ id: string }>(
      'POST',
      '/api/workspaces',
      { name: 'Direct', slug: `direct-${Date.now()}` },
      user.token,
    );
    const project = await stack.api<{ id: string }>(
      'POST',
      `/api/workspaces/${workspace.id}/projects`,
      { name: 'site', slug: 'site', git_provider: 'none' },
      user.token,
    );
    // A fresh browser context: nothing remembered from an earlier visit.
    const page = await stack.newPage();
    await stack.signIn(page, user.email);
    await page.goto(`/projects/${project.id}`);
    await expect
      .poll(() => page.getByRole('combobox', { name: 'Workspace' }).inputValue())
      .toBe(workspace.id);
  });

  it('shows "not found" for a project of another workspace', async () => {
    const owner = await stack.newUser('owner');
    const workspace = await stack.api<{ id: string }>(
      'POST',
      '/api/workspaces',
      { name: 'Theirs', slug: `theirs-${Date.now()}` },
      owner.token,
    );
    const project = await stack.api<{ id: string }>(
      'POST',
      `/api/workspaces/${workspace.id}/projects`,
      { name: 'secret', slug: 'secret', git_provider: 'none' },
      owner.token,
    );
    const stranger = await stack.newUser('stranger');
    const page = await stack.newPage();
    await stack.signIn(page, stranger.email);
    await page.goto(`/projects/${project.id}`);
    await expect.poll(() => page.getByRole('heading', { name: 'Not found' }).count()).toBe(1);
    expect(await page.getByText('secret').count()).toBe(0);
  });
});
