import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NotificationReceiver, startNotificationReceiver } from '../notification-receiver';
import { type BrowserStack, startBrowserStack } from './harness';

/**
 * The project's Notifications tab in Chromium against the local stack, with a local receiver
 * standing in for Slack and for a signed webhook: add targets, see the secret once, send a test,
 * follow the delivery log, redeliver, delete.
 */
let stack: BrowserStack;
let receiver: NotificationReceiver;
let owner: { email: string; token: string };
let projectId: string;

const poll = <T>(check: () => Promise<T>) => expect.poll(check, { timeout: 30_000 });

beforeAll(async () => {
  receiver = await startNotificationReceiver();
  stack = await startBrowserStack();
  owner = await stack.newUser('owner');
  const workspace = await stack.api<{ id: string }>(
    'POST',
    '/api/workspaces',
    { name: 'Notify', slug: `notify-${Date.now()}` },
    owner.token,
  );
  projectId = (
    await stack.api<{ id: string }>(
      'POST',
      `/api/workspaces/${workspace.id}/projects`,
      { name: 'Shop', slug: 'shop', git_provider: 'none' },
      owner.token,
    )
  ).id;
}, 240_000);
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

describe('notifications in the dashboard', () => {
  it('adds a Slack target, sends a test, shows the delivery log, redelivers and deletes', async () => {
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`/projects/${projectId}`);
    await page
      .getByRole('navigation', { name: 'Project' })
      .getByRole('link', { name: 'Notifications' })
      .click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await page.getByText('No notification targets').waitFor();

    // A URL the server refuses shows the reason beside the field.
    await page.getByLabel('Kind').selectOption('slack');
    await page.getByLabel('Name').fill('#deploys');
    await page.getByLabel('URL').fill('http://example.com/hook');
    await page.getByRole('button', { name: 'Add target' }).click();
    await page.getByText('must be an https:// URL (http:// only for a loopback host)').waitFor();

    await page.getByLabel('URL').fill(receiver.url('/slack'));
    await page.getByRole('button', { name: 'Add target' }).click();
    const card = page.locator('section').filter({ hasText: '#deploys' });
    await card.waitFor();
    expect(await card.textContent()).toContain('http://127.0.0.1');
    expect(await card.textContent()).not.toContain('/slack');
    // Slack targets have no signing secret to show.
    expect(await page.getByTestId('signing-secret').count()).toBe(0);

    await card.getByRole('button', { name: 'Send test' }).click();
    const log = card.getByRole('table', { name: 'Delivery log' });
    await poll(() => log.locator('tbody tr').first().textContent()).toContain('succeeded');
    expect(await log.locator('tbody tr').first().textContent()).toMatch(/test.*succeeded.*1.*200/);
    expect(receiver.at('/slack')[0]!.json).toMatchObject({ text: 'Test notification for Shop' });
    await stack.screenshot(page, 'notifications');

    await log.getByRole('button', { name: 'Redeliver test' }).first().click();
    await poll(() => log.locator('tbody tr').count()).toBe(2);
    await poll(() => log.locator('tbody tr').first().textContent()).toContain('succeeded');
    expect(await log.locator('tbody tr').first().textContent()).toContain('(redelivery)');
    expect(receiver.at('/slack')).toHaveLength(2);

    await card.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No notification targets').waitFor();
  });

  it('shows a webhook’s signing secret once, and that secret verifies its deliveries', async () => {
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`/projects/${projectId}/notifications`);
    await page.getByLabel('Name').fill('Ops hook');
    await page.getByLabel('URL').fill(receiver.url('/hook'));
    await page.getByLabel('Runner offline').uncheck();
    await page.getByRole('button', { name: 'Add target' }).click();
    const secret = (await page.getByTestId('signing-secret').textContent())!;
    expect(secret).toMatch(/^nsec_/);
    receiver.verifyWith('/hook', secret);
    const card = page.locator('section').filter({ hasText: 'Ops hook' });
    expect(await card.textContent()).toContain(
      'Build failed · Deployment live · Deployment rolled back',
    );

    await card.getByRole('button', { name: 'Send test' }).click();
    await poll(() => card.getByRole('table', { name: 'Delivery log' }).textContent()).toContain(
      'succeeded',
    );
    expect(receiver.at('/hook')).toMatchObject([{ verified: true, status: 200 }]);

    // Gone after a reload: the API never returns it again.
    await page.reload();
    await page.locator('section').filter({ hasText: 'Ops hook' }).waitFor();
    expect(await page.content()).not.toContain(secret);
  });
});
