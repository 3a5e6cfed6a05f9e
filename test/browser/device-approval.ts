import { expect } from 'vitest';
import type { SparkiRun } from '../../cli/spawn-sparki';
import type { BrowserStack } from './harness';

/** A page on the shared, loaded machine may take longer than expect.poll's default second. */
export const SHOWN = { timeout: 20_000 };

/** The code and link `sparki login` prints, once it has printed them. */
export async function printedCode(run: SparkiRun): Promise<{ userCode: string; link: URL }> {
  await expect.poll(() => run.output().stdout, { timeout: 30_000 }).toMatch(/Or open: \S+/);
  const { stdout } = run.output();
  const userCode = /enter the code: ([A-Z]{4}-[A-Z]{4})/.exec(stdout)![1]!;
  const link = new URL(/Or open: (\S+)/.exec(stdout)![1]!);
  return { userCode, link };
}

/** `email` signs in to the dashboard, opens the link `login` printed and approves its code. */
export async function approveInDashboard(stack: BrowserStack, login: SparkiRun, email: string) {
  const { userCode, link } = await printedCode(login);
  const page = await stack.newPage();
  await stack.signIn(page, email);
  await page.goto(`${link.pathname}${link.search}`);
  await expect.poll(() => page.getByTestId('user-code').textContent(), SHOWN).toBe(userCode);
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Approved' }).count(), SHOWN).toBe(1);
  await page.context().close();
}
