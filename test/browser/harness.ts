import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { apiCaller } from '../node/e2e-helpers';
import { type ChildEnv, type RunningStack, startStackOnFreePort, stopStack } from '../node/stack';
import { watchPage } from './page-report';

/**
 * The setting of the browser tests: the local stack (`npm run dev`, serving the built dashboard
 * from web/dist as production's assets binding does) and Debian's Chromium driven by
 * playwright-core. Nothing is mocked: pages call the real API with the real session cookies.
 */
const ROOT = join(import.meta.dirname, '../..');
export const PASSWORD = 'correct horse battery staple';
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function ensureDashboardBuilt() {
  if (existsSync(join(ROOT, 'web', 'dist', 'index.html'))) return;
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts'],
    {
      cwd: ROOT,
      stdio: 'ignore',
    },
  );
}

export interface BrowserStack {
  /** `http://localhost:<port>`: a secure context, so `__Host-` cookies work over plain HTTP. */
  base: string;
  stack: RunningStack;
  stateDir: string;
  browser: Browser;
  /** A page in a fresh browser context (its own cookies), failing the test on a page error. */
  newPage(): Promise<Page>;
  /** An API call with a bearer token (or none), for what a test sets up outside the browser. */
  api<T>(method: string, path: string, body?: unknown, token?: string): Promise<T>;
  /** A new user with a verified address and a personal token for `api`. */
  newUser(label: string): Promise<{ email: string; token: string }>;
  /** Signs `email` in through the sign-in page. */
  signIn(page: Page, email: string): Promise<void>;
  /** A PNG of the whole page (or only the viewport) under test-results/screenshots. */
  screenshot(page: Page, name: string, options?: { fullPage?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export async function startBrowserStack(): Promise<BrowserStack> {
  ensureDashboardBuilt();
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...env }: ChildEnv = process.env;
  const stateDir = await mkdtemp(join(tmpdir(), 'sparki-browser-'));
  const stack = await startStackOnFreePort(stateDir, { ...env, SPARKI_DASHBOARD: 'built' });
  const base = `http://localhost:${stack.port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
  });

  function api<T>(method: string, path: string, body?: unknown, token?: string) {
    return apiCaller(base, () => token ?? '')<T>(method, path, body);
  }

  return {
    base,
    stack,
    stateDir,
    browser,
    api,
    async newPage() {
      const context = await browser.newContext({ baseURL: base });
      return watchPage(await context.newPage());
    },
    async newUser(label) {
      const email = `${label}-${randomUUID().slice(0, 8)}@example.com`;
      await api('POST', '/api/auth/signup', { email, password: PASSWORD });
      const mail = await api<{ messages: { text: string }[] }>(
        'GET',
        `/dev/mailbox/${encodeURIComponent(email)}`,
      );
      const token = /#token=([A-Za-z0-9_-]+)/.exec(mail.messages.at(-1)!.text)![1];
      await api('POST', '/api/auth/verify-email', { token });
      const session = await api<{ access_token: string }>('POST', '/api/auth/login', {
        email,
        password: PASSWORD,
      });
      return { email, token: session.access_token };
    },
    async signIn(page, email) {
      await page.goto('/sign-in');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
    },
    async screenshot(page, name, options) {
      await mkdir(SCREENSHOTS, { recursive: true });
      await page.screenshot({
        path: join(SCREENSHOTS, `${name}.png`),
        fullPage: options?.fullPage ?? true,
      });
    },
    async stop() {
      await browser.close();
      await stopStack(stack);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
