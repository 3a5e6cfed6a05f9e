import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserStack, startBrowserStack } from './harness';

const execFileAsync = promisify(execFile);
const BIN = join(import.meta.dirname, '../../cli/bin.mjs');

let stack: BrowserStack;
const runners: ChildProcess[] = [];
beforeAll(async () => {
  stack = await startBrowserStack();
});
afterAll(async () => {
  for (const child of runners) if (child.exitCode === null) child.kill('SIGTERM');
  await stack?.stop();
});

/** The invitation token from the mail the dev mailbox holds for `email`. */
async function mailedInvite(email: string): Promise<string> {
  const mail = await stack.api<{ messages: { subject: string; text: string }[] }>(
    'GET',
    `/dev/mailbox/${encodeURIComponent(email)}`,
  );
  const invite = mail.messages.findLast((message) => /invited/.test(message.subject));
  return /invites\/accept#token=([A-Za-z0-9_-]+)/.exec(invite!.text)![1]!;
}

/** Polls until the page gets there; generous, as the stack may share the machine with other work. */
const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 30_000 });

/** The names of the buttons in the page's main area. */
async function buttons(page: Page): Promise<string[]> {
  const names = await page.locator('main button').allInnerTexts();
  return names.map((name) => name.trim()).sort();
}

describe('the workspace admin screens', () => {
  it('invites, changes a role, audits it with a CSV export, adds a runner and hides it all from viewers', async () => {
    const owner = await stack.newUser('admin-owner');
    const invitee = await stack.newUser('invitee');
    const workspace = await stack.api<{ id: string }>(
      'POST',
      '/api/workspaces',
      { name: 'Admin Team', slug: `admin-${Date.now()}` },
      owner.token,
    );
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);

    // Members: invite through the page.
    await page.goto(`/w/${workspace.id}/members`);
    await page.getByLabel('Email').fill(invitee.email);
    await page.getByLabel('Role', { exact: true }).selectOption('developer');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await eventually(() => page.getByText(`Invitation mailed to ${invitee.email}`).count()).toBe(1);
    await eventually(() => page.getByRole('button', { name: 'Revoke' }).count()).toBe(1);

    // The invitee accepts with the mailed token, through the API.
    const token = await mailedInvite(invitee.email);
    await stack.api('POST', '/api/invites/accept', { token }, invitee.token);

    // The owner sees them join and makes them a viewer.
    await page.reload();
    const role = page.getByLabel(`Role of ${invitee.email}`);
    await eventually(() => role.inputValue()).toBe('developer');
    await role.selectOption('viewer');
    await eventually(async () => {
      const members = await stack.api<{ members: { email: string; role: string }[] }>(
        'GET',
        `/api/workspaces/${workspace.id}/members`,
        undefined,
        owner.token,
      );
      return members.members.find((member) => member.email === invitee.email)?.role;
    }).toBe('viewer');
    expect(await page.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    await stack.screenshot(page, 'admin-members');

    // The audit log shows the three steps, filters them and exports what it shows as CSV.
    await page.goto(`/w/${workspace.id}/audit`);
    const table = page.locator('table');
    for (const action of ['member.invited', 'member.joined', 'member.role_changed']) {
      await eventually(() => table.getByText(action, { exact: true }).count()).toBe(1);
    }
    await stack.screenshot(page, 'admin-audit-log');
    await page.getByLabel('Action').fill('member.role_changed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/action=member\.role_changed/);
    await eventually(() => table.locator('tbody tr').count()).toBe(1);
    expect(await table.getByText('member.role_changed', { exact: true }).count()).toBe(1);

    const [filtered] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const filteredCsv = await readFile((await filtered.path())!, 'utf8');
    expect(filteredCsv.split('\r\n')[0]).toMatch(/^id,created_at,actor_id,actor_email,/);
    expect(filteredCsv).toContain('member.role_changed');
    expect(filteredCsv).not.toContain('member.invited');

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await eventually(() => table.getByText('member.invited', { exact: true }).count()).toBe(1);
    const [all] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const allCsv = await readFile((await all.path())!, 'utf8');
    for (const action of ['member.invited', 'member.joined', 'member.role_changed']) {
      expect(allCsv).toContain(`,${action},`);
    }
    expect(allCsv).toContain(owner.email);

    // Day filters are the reader's calendar days: today holds the entries, tomorrow none.
    const [today, tomorrow] = await page.evaluate(() =>
      [0, 1].map((plus) => {
        const day = new Date();
        day.setDate(day.getDate() + plus);
        const pad = (n: number) => String(n).padStart(2, '0');
        return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
      }),
    );
    await page.goto(`/w/${workspace.id}/audit?from=${today}&to=${today}`);
    await eventually(() => table.getByText('member.joined', { exact: true }).count()).toBe(1);
    expect(await page.getByLabel('From').inputValue()).toBe(today);
    await page.goto(`/w/${workspace.id}/audit?from=${tomorrow}`);
    await eventually(() => page.getByText('No entries match these filters').count()).toBe(1);

    // Runners: a registration token and the command, which a real `sparki runner` follows.
    await page.goto(`/w/${workspace.id}/runners`);
    await eventually(() => page.getByText('No runners yet').count()).toBe(1);
    await page.getByRole('button', { name: 'Create registration token' }).click();
    const command = page.locator('pre');
    await eventually(() => command.count()).toBe(1);
    const text = (await command.textContent()) ?? '';
    expect(text).toMatch(
      new RegExp(
        `^sparki runner register --url ${stack.base} --token spk_rrt_[A-Za-z0-9_-]+\\nsparki runner start$`,
      ),
    );
    await stack.screenshot(page, 'admin-runner-token');

    const [register, start] = text.split('\n').map((line) => line.split(' ').slice(1));
    const config = join(stack.stateDir, 'admin-runner.json');
    await execFileAsync(process.execPath, [
      BIN,
      ...register!,
      '--name',
      'browser-runner',
      '--labels',
      'linux,x64',
      '--config',
      config,
    ]);
    const runner = spawn(
      process.execPath,
      [BIN, ...start!, '--config', config, '--work-dir', join(stack.stateDir, 'admin-work')],
      { stdio: 'ignore' },
    );
    runners.push(runner);
    const row = page.getByRole('row', { name: /browser-runner/ });
    // The list refreshes by itself: the new runner shows up online, with its labels.
    await eventually(() => row.getByText('online', { exact: true }).count()).toBe(1);
    expect(await row.getByText('linux', { exact: true }).count()).toBe(1);
    await stack.screenshot(page, 'admin-runners');

    // Revoking the token takes it off the list.
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('button', { name: 'Revoke token' }).click();
    await eventually(() => page.getByText('Active registration tokens').count()).toBe(0);

    // Plan & usage, and renaming.
    await page.goto(`/w/${workspace.id}/settings`);
    await eventually(() => page.getByText('Free plan').count()).toBe(1);
    const members = page
      .locator('dt', { hasText: /^Members$/ })
      .locator('xpath=following-sibling::dd[1]');
    expect(await members.textContent()).toBe('2');
    await page.getByLabel('Workspace name').fill('Admin Team Renamed');
    await page.getByRole('button', { name: 'Rename workspace' }).click();
    await eventually(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    await eventually(() =>
      page.getByRole('combobox').first().locator('option:checked').textContent(),
    ).toBe('Admin Team Renamed');
    await stack.screenshot(page, 'admin-plan-usage');

    // On a phone, in the dark theme: wide tables scroll inside their box, never the page.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const section of ['members', 'audit', 'runners', 'settings']) {
      await page.goto(`/w/${workspace.id}/${section}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      // Strings: this file is type-checked without the DOM library.
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow, section).toBeLessThanOrEqual(0);
    }
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    await page.goto(`/w/${workspace.id}/members`);
    await page.getByLabel(`Role of ${invitee.email}`).waitFor();
    await stack.screenshot(page, 'admin-members-phone-dark');

    // The viewer sees the same screens without a control that would change anything.
    const viewer = await stack.newPage();
    await stack.signIn(viewer, invitee.email);
    await viewer.goto(`/w/${workspace.id}/members`);
    await eventually(() => viewer.getByText(owner.email).count()).toBe(1);
    await viewer.waitForLoadState('networkidle');
    expect(await buttons(viewer)).toEqual(['Leave']);
    expect(await viewer.locator('main select').count()).toBe(0);
    expect(await viewer.getByText('Invitations').count()).toBe(0);

    await viewer.goto(`/w/${workspace.id}/runners`);
    await eventually(() => viewer.getByText('browser-runner').count()).toBe(1);
    await viewer.waitForLoadState('networkidle');
    expect(await buttons(viewer)).toEqual([]);

    await viewer.goto(`/w/${workspace.id}/settings`);
    await eventually(() => viewer.getByText('Admins can rename the workspace.').count()).toBe(1);
    await viewer.waitForLoadState('networkidle');
    expect(await buttons(viewer)).toEqual([]);
    expect(await viewer.locator('main input').count()).toBe(0);

    await viewer.goto(`/w/${workspace.id}/audit`);
    await eventually(() => viewer.getByText('The audit log is for admins').count()).toBe(1);
  });

  it('shows the API error with its request id when an invitation is refused', async () => {
    const owner = await stack.newUser('admin-refused');
    const workspace = await stack.api<{ id: string }>(
      'POST',
      '/api/workspaces',
      { name: 'Refusals', slug: `refusals-${Date.now()}` },
      owner.token,
    );
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`/w/${workspace.id}/members`);
    // Inviting someone who is already a member is a conflict.
    await page.getByLabel('Email').fill(owner.email);
    await page.getByRole('button', { name: 'Send invitation' }).click();
    const alert = page.getByRole('alert');
    await eventually(() => alert.textContent()).toContain('is already a member');
    expect(await alert.textContent()).toMatch(/conflict · request id \S+/);
  });
});

describe('handing a workspace over', () => {
  it('transfers ownership, then leaves, each after a confirmation', async () => {
    const owner = await stack.newUser('handover-owner');
    const heir = await stack.newUser('handover-heir');
    const workspace = await stack.api<{ id: string }>(
      'POST',
      '/api/workspaces',
      { name: 'Handover', slug: `handover-${Date.now()}` },
      owner.token,
    );
    await stack.api(
      'POST',
      `/api/workspaces/${workspace.id}/invites`,
      { email: heir.email, role: 'admin' },
      owner.token,
    );
    await stack.api(
      'POST',
      '/api/invites/accept',
      { token: await mailedInvite(heir.email) },
      heir.token,
    );

    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`/w/${workspace.id}/members`);
    // The last owner cannot leave yet, and the page says why.
    await eventually(() => page.getByText('A workspace needs an owner').count()).toBe(1);
    await eventually(() => page.getByRole('button', { name: 'Leave' }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Make owner' }).click();
    const dialog = page.getByRole('alertdialog');
    expect(await dialog.textContent()).toContain(`${heir.email} becomes the owner`);
    await dialog.getByRole('button', { name: 'Transfer ownership' }).click();
    // Now an admin: no ownership controls, and an owner is not theirs to remove.
    await eventually(() => page.getByRole('button', { name: 'Make owner' }).count()).toBe(0);
    // The member list and the caller's role refresh separately after the transfer.
    await eventually(() => page.getByRole('button', { name: 'Remove' }).count()).toBe(0);
    await eventually(() => page.getByRole('button', { name: 'Leave' }).isDisabled()).toBe(false);

    await page.getByRole('button', { name: 'Leave' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Leave workspace' }).click();
    // Their only workspace is gone: the dashboard asks for a new one.
    await page.waitForURL('**/workspaces/new');
    const members = await stack.api<{ members: { email: string; role: string }[] }>(
      'GET',
      `/api/workspaces/${workspace.id}/members`,
      undefined,
      heir.token,
    );
    expect(members.members).toEqual([
      expect.objectContaining({ email: heir.email, role: 'owner' }),
    ]);
  });
});
