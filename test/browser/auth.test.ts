import { randomUUID } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserStack, PASSWORD, startBrowserStack } from './harness';

let stack: BrowserStack;
beforeAll(async () => {
  stack = await startBrowserStack();
});
afterAll(() => stack?.stop());

const PERIOD_MS = 30_000;
/** Pages answer after API calls: a slow machine gets longer than expect.poll's default second. */
const WAIT = { timeout: 10_000 };

function freshEmail(label: string) {
  return `${label}-${randomUUID().slice(0, 8)}@example.com`;
}

/** The path and fragment of the link in the newest mail to `email` whose text matches. */
async function mailedLink(email: string, text: RegExp): Promise<string> {
  const mailbox = await stack.api<{ messages: { text: string }[] }>(
    'GET',
    `/dev/mailbox/${encodeURIComponent(email)}`,
  );
  const mail = mailbox.messages.filter((message) => text.test(message.text)).at(-1);
  const link = /(http\S+#token=[A-Za-z0-9_-]+)/.exec(mail?.text ?? '');
  expect(link, `no mail matching ${text} for ${email}`).not.toBeNull();
  const url = new URL(link![1]!);
  return url.pathname + url.hash;
}

/** A code for the current 30 s step plus `offset` steps (the server accepts −1…+1). */
function codeAt(secret: string, offset = 0) {
  return TOTP.generate({
    secret: Secret.fromBase32(secret),
    timestamp: Date.now() + offset * PERIOD_MS,
  });
}

/** Six digits that are none of the codes the server would accept now or in a moment. */
function wrongCode(secret: string) {
  const valid = new Set([-1, 0, 1, 2].map((offset) => codeAt(secret, offset)));
  let candidate = 0;
  while (valid.has(String(candidate).padStart(6, '0'))) candidate++;
  return String(candidate).padStart(6, '0');
}

async function seen(
  page: Page,
  name: string | RegExp,
  role: 'heading' | 'alert' | 'button' = 'heading',
) {
  await expect
    .poll(() => page.getByRole(role, { name }).count(), { ...WAIT, message: String(name) })
    .toBeGreaterThan(0);
}

async function seenText(page: Page, text: string | RegExp) {
  await expect
    .poll(() => page.getByText(text).count(), { ...WAIT, message: String(text) })
    .toBeGreaterThan(0);
}

async function fillSignIn(page: Page, email: string, password = PASSWORD) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signUp(page: Page, email: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await seen(page, 'Check your mail');
}

async function workspaceOf(token: string, name: string) {
  return stack.api<{ id: string }>(
    'POST',
    '/api/workspaces',
    { name, slug: `${name.toLowerCase()}-${randomUUID().slice(0, 8)}` },
    token,
  );
}

describe('signing up and in', () => {
  it('signs up on the page, confirms the address through the mailed link, then signs in', async () => {
    const email = freshEmail('signup');
    const page = await stack.newPage();
    await page.goto('/sign-in');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL('**/sign-up');
    await signUp(page, email);
    await seenText(page, email);

    // Not confirmed yet: the API's refusal shows on the sign-in page.
    await page.goto('/sign-in');
    await fillSignIn(page, email);
    await seenText(page, 'Confirm your email address first; the link was mailed at signup');

    const link = await mailedLink(email, /verify-email/);
    expect(link).toMatch(/^\/verify-email#token=/);
    await page.goto(link);
    await seen(page, 'Your address is confirmed');
    // The single-use token leaves the address bar once read.
    expect(page.url()).not.toContain('token=');

    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL('**/sign-in');
    await fillSignIn(page, email);
    await page.waitForURL('**/workspaces/new');

    // The link works once; opened again it says so with the API's message.
    const again = await stack.newPage();
    await again.goto(link);
    await seen(again, 'Your address is not confirmed');
    await seenText(again, 'The verification link is invalid, used or expired');
  });

  it('says so when a mailed link has lost its token', async () => {
    const page = await stack.newPage();
    await page.goto('/reset-password');
    await seen(page, 'This link is incomplete');
  });

  it('resets a forgotten password through the mailed link', async () => {
    const { email } = await stack.newUser('reset');
    const page = await stack.newPage();
    await page.goto('/sign-in');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await seen(page, 'Check your mail');

    const link = await mailedLink(email, /reset-password/);
    await page.goto(link);
    const password = 'a brand new passphrase';
    await page.getByLabel('New password', { exact: true }).fill(password);
    await page.getByLabel('Repeat the new password').fill(`${password}!`);
    await page.getByRole('button', { name: 'Change password' }).click();
    await seenText(page, 'The two passwords differ');
    await page.getByLabel('Repeat the new password').fill(password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await seen(page, 'Your password is changed');

    await page.getByRole('link', { name: 'Sign in' }).click();
    await fillSignIn(page, email, PASSWORD);
    await seenText(page, 'Email or password is incorrect');
    await fillSignIn(page, email, password);
    await page.waitForURL('**/workspaces/new');

    // Spent: the same link refuses a second reset with the API's message.
    const again = await stack.newPage();
    await again.goto(link);
    await again.getByLabel('New password', { exact: true }).fill('yet another passphrase');
    await again.getByLabel('Repeat the new password').fill('yet another passphrase');
    await again.getByRole('button', { name: 'Change password' }).click();
    await seenText(again, 'The reset link is invalid, used or expired');
  });
});

describe('two-factor authentication', () => {
  it('is set up on the account page, then a sign-in asks for a code', async () => {
    const { email, token } = await stack.newUser('mfa');
    await workspaceOf(token, 'Mfa');
    const page = await stack.newPage();
    await stack.signIn(page, email);
    await page.goto('/account');
    await seen(page, 'Account');
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    await expect
      .poll(() => page.locator('svg title', { hasText: 'QR code' }).count(), WAIT)
      .toBe(1);
    const secret = (await page.locator('code', { hasText: /^[A-Z2-7]{16,}$/ }).textContent())!;

    await page.getByLabel('Code from the app').fill(wrongCode(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await seenText(page, 'The code is not valid; enter the current one from the app');

    await page.getByLabel('Code from the app').fill(codeAt(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await seenText(page, 'Your recovery codes');
    const codes = await page
      .getByRole('list', { name: 'Recovery codes' })
      .locator('li')
      .allTextContents();
    expect(codes).toHaveLength(10);
    await stack.screenshot(page, 'account-recovery-codes');
    await page.getByRole('button', { name: 'I have saved it' }).click();
    // Shown once: gone after dismissing, and not shown again after a reload.
    await expect.poll(() => page.getByText(codes[0]!).count(), WAIT).toBe(0);
    await page.reload();
    await seenText(page, /10 recovery codes left/);
    expect(await page.getByText(codes[0]!).count()).toBe(0);
    await stack.screenshot(page, 'account');

    // A sign-in now asks for a code; a wrong one gets the API's refusal.
    const next = await stack.newPage();
    await next.goto('/sign-in?return_to=/account');
    await fillSignIn(next, email);
    await seen(next, 'Two-factor authentication');
    await next.getByLabel('Authentication code').fill(wrongCode(secret));
    await next.getByRole('button', { name: 'Verify' }).click();
    await seenText(next, 'The code is incorrect');
    await stack.screenshot(next, 'sign-in-mfa');
    // The code of the next step: the confirmation spent the current one.
    await next.getByLabel('Authentication code').fill(codeAt(secret, 1));
    await next.getByRole('button', { name: 'Verify' }).click();
    await next.waitForURL('**/account');
    await seenText(next, /recovery codes left/);

    // A provider sign-in lands on /login/mfa with the step in the fragment; a recovery code works.
    const step = await stack.api<{ mfa_token: string }>('POST', '/api/auth/login', {
      email,
      password: PASSWORD,
    });
    const third = await stack.newPage();
    const fragment = new URLSearchParams({ mfa_token: step.mfa_token, return_to: '/account' });
    await third.goto(`/login/mfa#${fragment}`);
    await third.getByRole('button', { name: 'Use a recovery code' }).click();
    await third.getByLabel('Recovery code').fill(codes[0]!);
    await third.getByRole('button', { name: 'Verify' }).click();
    await third.waitForURL('**/account');
    await seenText(third, /9 recovery codes left/);
  });

  it('replaces the recovery codes and turns two-factor authentication off', async () => {
    const { email, token } = await stack.newUser('mfa-off');
    const { secret } = await stack.api<{ secret: string }>('POST', '/api/me/mfa/totp', {}, token);
    const { recovery_codes: old } = await stack.api<{ recovery_codes: string[] }>(
      'POST',
      '/api/me/mfa/totp/confirm',
      { code: codeAt(secret) },
      token,
    );
    const page = await stack.newPage();
    await page.goto('/sign-in?return_to=/account');
    await fillSignIn(page, email);
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(old[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');

    const replace = page.getByRole('form', { name: 'New recovery codes' });
    await replace.getByLabel('Password', { exact: true }).fill('not the password at all');
    await replace.getByLabel('Code from the app').fill(codeAt(secret, 1));
    await replace.getByRole('button', { name: 'Replace recovery codes' }).click();
    await seenText(page, 'Password or code is incorrect');
    await replace.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await replace.getByRole('button', { name: 'Replace recovery codes' }).click();
    const list = page.getByRole('list', { name: 'Recovery codes' }).locator('li');
    await expect.poll(() => list.count(), WAIT).toBe(10);
    const fresh = await list.allTextContents();
    expect(fresh).not.toContain(old[1]);
    await page.getByRole('button', { name: 'I have saved it' }).click();

    // The old codes stopped working; a new one turns MFA off after the confirmation.
    const turnOff = page.getByRole('button', { name: 'Turn off two-factor authentication' });
    await page.getByLabel('Password for turning off').fill(PASSWORD);
    await page.getByLabel('Code from the app, or a recovery code').fill(old[1]!);
    await turnOff.click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Turn off' }).click();
    await seenText(page, 'Password or code is incorrect');
    await page.getByLabel('Code from the app, or a recovery code').fill(fresh[0]!);
    await turnOff.click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Turn off' }).click();
    await seen(page, 'Set up two-factor authentication', 'button');
    const status = await stack.api<{ enabled: boolean }>('GET', '/api/me/mfa', undefined, token);
    expect(status.enabled).toBe(false);
  });

  it('says so when /login/mfa is opened without a sign-in step', async () => {
    const page = await stack.newPage();
    await page.goto('/login/mfa');
    await seen(page, 'This sign-in step is missing');
  });
});

describe('the account page', () => {
  it('renames the profile, shows a new personal access token once, lists it, and revokes it', async () => {
    const { email, token } = await stack.newUser('pat');
    const workspace = await workspaceOf(token, 'Tokens');
    const page = await stack.newPage();
    await stack.signIn(page, email);
    await page.goto('/account');
    await seenText(page, 'No tokens yet');
    await page.getByLabel('Token name').fill('ci script');
    await page.getByLabel('Scope').selectOption('write');
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = page.locator('code', { hasText: /^spk_pat_/ });
    await expect.poll(() => shown.count(), WAIT).toBe(1);
    const secret = (await shown.textContent())!;
    // The token works against the API, for its workspace.
    await stack.api('GET', `/api/workspaces/${workspace.id}`, undefined, secret);

    await page.getByRole('button', { name: 'I have saved it' }).click();
    await expect.poll(() => page.getByText(secret).count(), WAIT).toBe(0);
    await page.reload();
    await seenText(page, `${secret.slice(0, 14)}…`);
    expect(await page.getByText(secret).count()).toBe(0);

    // The current session is listed and cannot be revoked from here; the API's one can.
    await seenText(page, 'This session');

    await page.getByLabel('Your name').fill('  Grace Hopper ');
    await page.getByRole('button', { name: 'Save name' }).click();
    await seenText(page, 'Saved.');
    const me = await stack.api<{ display_name: string }>('GET', '/api/me', undefined, token);
    expect(me.display_name).toBe('Grace Hopper');

    await page.getByRole('button', { name: 'Revoke ci script' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke' }).click();
    await seenText(page, 'Revoked');
    const refused = await fetch(`${stack.base}/api/workspaces/${workspace.id}`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(refused.status).toBe(401);
  });

  it('revokes another session', async () => {
    const { email } = await stack.newUser('sessions');
    const page = await stack.newPage();
    await stack.signIn(page, email);
    await page.goto('/account');
    await seenText(page, 'This session');
    // newUser signed in once through the API: that session is the other one.
    const revoke = page.getByRole('button', { name: 'Revoke', exact: true });
    await expect.poll(() => revoke.count(), WAIT).toBe(1);
    await revoke.click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => revoke.count(), WAIT).toBe(0);
  });
});

describe('invitations', () => {
  it('accepts an invitation through the mailed link, signing up and in on the way', async () => {
    const owner = await stack.newUser('owner');
    const workspace = await workspaceOf(owner.token, 'Invited');
    const email = freshEmail('invitee');
    await stack.api(
      'POST',
      `/api/workspaces/${workspace.id}/invites`,
      { email, role: 'developer' },
      owner.token,
    );
    const link = await mailedLink(email, /invites\/accept/);
    expect(link).toMatch(/^\/invites\/accept#token=/);

    // Someone else signed in: the API refuses, and the page says why.
    const stranger = await stack.newUser('stranger');
    const other = await stack.newPage();
    await stack.signIn(other, stranger.email);
    await other.goto(link);
    await other.getByRole('button', { name: 'Accept invitation' }).click();
    await seenText(other, 'The invitation is invalid, used, expired or addressed to another email');

    // The invited address has no account yet: sign up, confirm, sign in, and back to accept.
    const page = await stack.newPage();
    await page.goto(link);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL(/\/sign-up\?return_to=/);
    await signUp(page, email);
    await page.goto(await mailedLink(email, /verify-email/));
    await seen(page, 'Your address is confirmed');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await fillSignIn(page, email);
    await page.waitForURL(/\/invites\/accept#token=/);
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await seen(page, 'You joined the workspace');
    await seenText(page, 'developer');
    await page.getByRole('link', { name: 'Open the workspace' }).click();
    await page.waitForURL(`**/w/${workspace.id}/projects`);
  });
});

describe('the sign-in page', () => {
  it('keeps return_to and shows no provider button when none is configured', async () => {
    const { email } = await stack.newUser('return');
    const page = await stack.newPage();
    await page.goto('/account');
    await page.waitForURL(/\/sign-in\?return_to=/);
    const providers = await stack.api<{ providers: unknown[] }>('GET', '/api/auth/providers');
    await stack.screenshot(page, 'sign-in');
    expect(await page.getByRole('link', { name: /^Continue with/ }).count()).toBe(
      providers.providers.length,
    );
    await fillSignIn(page, email);
    await page.waitForURL('**/account');
  });

  it('links a button per configured provider to its start route, keeping return_to', async () => {
    // The local stack configures no provider (test/workers/oidc.test.ts covers the API's list):
    // here the page gets a list with both, to check what it makes of it.
    const page = await stack.newPage();
    await page.route('**/api/auth/providers', (route) =>
      route.fulfill({
        json: {
          providers: [
            { id: 'oidc', label: 'single sign-on' },
            { id: 'github', label: 'GitHub' },
          ],
        },
      }),
    );
    await page.goto('/sign-in?return_to=/account');
    const github = page.getByRole('link', { name: 'Continue with GitHub' });
    await expect.poll(() => github.count(), WAIT).toBe(1);
    expect(await github.getAttribute('href')).toBe(
      '/api/auth/oidc/github/start?return_to=%2Faccount',
    );
    expect(
      await page.getByRole('link', { name: 'Continue with single sign-on' }).getAttribute('href'),
    ).toBe('/api/auth/oidc/oidc/start?return_to=%2Faccount');
  });
});
