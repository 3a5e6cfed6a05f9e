import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runSparki, startSparki } from '../../cli/spawn-sparki';
import { printedCode, SHOWN } from './device-approval';
import { type BrowserStack, PASSWORD, startBrowserStack } from './harness';

let stack: BrowserStack;
let configHome: string;
beforeAll(async () => {
  stack = await startBrowserStack();
  configHome = await mkdtemp(join(tmpdir(), 'sparki-cli-config-'));
});
afterAll(async () => {
  await stack?.stop();
  if (configHome) await rm(configHome, { recursive: true, force: true });
});

/** The real `sparki` executable, with its own config directory, as CI would run it (no TTY). */
function sparki(...args: string[]) {
  return startSparki(args, { env: isolatedEnv(configHome) });
}

function finished(...args: string[]) {
  return runSparki(args, { env: isolatedEnv(configHome) });
}

async function userWithWorkspace(label: string) {
  const user = await stack.newUser(label);
  await stack.api(
    'POST',
    '/api/workspaces',
    { name: `${label} team`, slug: `${label}-${Date.now()}` },
    user.token,
  );
  return user;
}

describe('sparki login through the dashboard (device flow)', () => {
  it('signs the CLI in once a signed-in user approves its code, and whoami answers as them', async () => {
    const { email } = await userWithWorkspace('cli');
    const login = sparki('login', '--url', stack.base);
    try {
      const { userCode, link } = await printedCode(login);
      expect(link.pathname).toBe('/device');
      expect(link.searchParams.get('user_code')).toBe(userCode);

      // A signed-out visitor of the printed link signs in first and comes back to the code.
      const page = await stack.newPage();
      await page.goto(`${link.pathname}${link.search}`);
      await page.waitForURL(/\/sign-in\?return_to=/);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((url) => url.pathname === '/device');
      await expect.poll(() => page.getByTestId('user-code').textContent(), SHOWN).toBe(userCode);
      expect(await page.getByText(/^sparki CLI on /).count()).toBe(1);
      await stack.screenshot(page, 'device-approve');
      await page.getByRole('button', { name: 'Approve' }).click();
      await expect
        .poll(() => page.getByRole('heading', { name: 'Approved' }).count(), SHOWN)
        .toBe(1);

      expect(await login.exited).toBe(0);
      expect(login.output().stdout).toContain(`Signed in to ${stack.base} as ${email}`);
    } finally {
      login.child.kill();
    }

    const credentials = join(configHome, 'sparki', 'credentials.json');
    expect((await stat(credentials)).mode & 0o777).toBe(0o600);

    const whoami = await finished('whoami', '--json');
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ email, url: stack.base });

    // The token is a personal access token of the account: logout revokes it.
    const logout = await finished('logout', '--url', stack.base);
    expect(logout.code, logout.stderr).toBe(0);
    const after = await finished('whoami', '--url', stack.base, '--json');
    expect(after.code).toBe(4);
    expect(after.stdout).toBe('');
  });

  it('exits 1 saying so when the user denies the code', async () => {
    const { email } = await userWithWorkspace('deny');
    const page = await stack.newPage();
    await stack.signIn(page, email);
    const login = sparki('login', '--url', stack.base);
    try {
      const { userCode } = await printedCode(login);
      // Typed by hand this time, in lower case.
      await page.goto('/device');
      await page.getByLabel('Code').fill(userCode.toLowerCase());
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect.poll(() => page.getByTestId('user-code').textContent(), SHOWN).toBe(userCode);
      await page.getByRole('button', { name: 'Deny' }).click();
      await expect.poll(() => page.getByRole('heading', { name: 'Denied' }).count(), SHOWN).toBe(1);
      expect(await login.exited).toBe(1);
      expect(login.output().stderr).toContain('error: the sign-in request was denied');
    } finally {
      login.child.kill();
    }
  });

  it('shows the API’s refusal for a code that names no pending request', async () => {
    const { email } = await userWithWorkspace('nocode');
    const page = await stack.newPage();
    await stack.signIn(page, email);
    await page.goto('/device?user_code=BCDF-GHJK');
    await expect
      .poll(() => page.getByRole('alert').textContent(), SHOWN)
      .toContain('No pending sign-in request has this code');
    expect(
      await page
        .getByRole('alert')
        .getByText(/request id/)
        .count(),
    ).toBe(1);
  });
});
