import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  type ApiCall,
  browse,
  newRepo,
  registerRunnerProcess,
  spawnRunner,
} from '../node/e2e-helpers';
import { type BrowserStack, PASSWORD, startBrowserStack } from './harness';

/**
 * The whole mission through the dashboard's pages, in Chromium, against the real local stack and
 * a real `sparki runner`: sign up, confirm the address, sign in, create a workspace and a project
 * on a local repository, build it while watching its log live, deploy it, ship a second version,
 * and roll production back to the first. Only the runner's registration goes through the API.
 */

/** The site: a build that prints a coloured line, then ticks until the test writes `gate`. */
const siteFiles = (version: string, gate: string) => ({
  'package.json': JSON.stringify({
    name: 'journey',
    private: true,
    scripts: { build: 'node b.js' },
  }),
  'sparki.json': JSON.stringify({ installCommand: null, outputDirectory: 'dist' }),
  'page.html': `<h1>journey ${version}</h1>\n`,
  'b.js': `
const fs = require('node:fs');
console.log('\\x1b[35mjourney in colour\\x1b[0m');
let tick = 0;
const timer = setInterval(() => {
  console.log('tick ' + ++tick);
  if (!fs.existsSync(${JSON.stringify(gate)}) && tick < 1200) return;
  clearInterval(timer);
  fs.mkdirSync('dist', { recursive: true });
  fs.copyFileSync('page.html', 'dist/index.html');
}, 150);
`,
});

/** Pages answer after API calls and builds on a shared, slow machine: generous bounds. */
const WAIT = { timeout: 30_000 };
const BUILD = { timeout: 180_000 };
/** Two builds and three deployments: longer than the browser project's bound for a test. */
const JOURNEY = 600_000;

let stack: BrowserStack;
let runner: ChildProcess | undefined;
let runnerOutput = '';

beforeAll(async () => {
  stack = await startBrowserStack();
}, 240_000);

afterAll(async () => {
  if (runner?.exitCode === null) runner.kill('SIGKILL');
  await stack?.stop();
});

interface Deployment {
  id: string;
  build_id: string;
  stage: string;
  status: string;
  serving: boolean;
}

/** Starts a build of main through the project overview's form; opens the new build's page. */
async function startBuildOnPage(page: Page, projectId: string, number: number) {
  await page.goto(`/projects/${projectId}`);
  await page.getByLabel('Branch to build').fill('main');
  await page.getByRole('button', { name: 'Start build' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Start build' }).click();
  const started = page.getByRole('status').filter({ hasText: `Build #${number}` });
  await expect.poll(() => started.count(), WAIT).toBe(1);
  await started.getByRole('link', { name: `#${number}` }).click();
  await page.waitForURL(/\/builds\/[0-9a-f-]{36}$/);
  await expect
    .poll(() => page.getByRole('heading', { name: `Build #${number}` }).count(), WAIT)
    .toBe(1);
  return new URL(page.url()).pathname.split('/').pop()!;
}

describe('the journey through the dashboard', () => {
  it('signs up, watches a build live, deploys two versions and rolls back', {
    timeout: JOURNEY,
  }, async () => {
    onTestFailed(() => console.error(`runner output:\n${runnerOutput}`));
    const email = `journey-${randomUUID().slice(0, 8)}@example.com`;
    const page = await stack.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });

    // Sign up, and confirm the address through the mailed link.
    await page.goto('/sign-up');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect
      .poll(() => page.getByRole('heading', { name: 'Check your mail' }).count(), WAIT)
      .toBe(1);
    const mail = await stack.api<{ messages: { text: string }[] }>(
      'GET',
      `/dev/mailbox/${encodeURIComponent(email)}`,
    );
    const link = new URL(
      /(http\S+\/verify-email#token=[A-Za-z0-9_-]+)/.exec(mail.messages[0]!.text)![1]!,
    );
    await page.goto(link.pathname + link.hash);
    await expect
      .poll(() => page.getByRole('heading', { name: 'Your address is confirmed' }).count(), WAIT)
      .toBe(1);
    await stack.screenshot(page, 'journey-verified');

    // Sign in: without a workspace yet, the dashboard asks for one.
    await stack.signIn(page, email);
    await page.waitForURL('**/workspaces/new');
    await page.getByLabel('Workspace name').fill('Journey');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.waitForURL(/\/w\/[0-9a-f-]{36}\/projects$/);
    const workspaceId = new URL(page.url()).pathname.split('/')[2]!;
    await expect.poll(() => page.getByText('No projects yet').count(), WAIT).toBe(1);

    // A real runner for the workspace (set up through the API, as a person would on a server).
    const { access_token } = await stack.api<{ access_token: string }>('POST', '/api/auth/login', {
      email,
      password: PASSWORD,
    });
    const api: ApiCall = (method, path, body) => stack.api(method, path, body, access_token);
    const registered = await registerRunnerProcess(api, {
      workspaceId,
      stateDir: stack.stateDir,
      name: 'journey-runner',
      url: stack.base,
    });
    runner = spawnRunner(registered.config, stack.stateDir, (chunk) => {
      runnerOutput += chunk;
    });

    // The project, on a repository of this machine, through the new-project page.
    const gate = join(stack.stateDir, 'journey-gate');
    const repo = join(stack.stateDir, 'journey');
    const commit = await newRepo(repo, siteFiles('v1', gate));
    await page.getByRole('link', { name: 'New project' }).click();
    await page.waitForURL(`**/w/${workspaceId}/projects/new`);
    await page.getByLabel('Repository URL').fill(repo);
    await page.getByLabel('Git provider').selectOption('github');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
    const projectId = new URL(page.url()).pathname.split('/').pop()!;
    await expect.poll(() => page.getByText('No builds yet').count(), WAIT).toBe(1);
    await stack.screenshot(page, 'journey-project');

    // The first build: its log shows in the page while it runs (it cannot end before the gate).
    const firstBuild = await startBuildOnPage(page, projectId, 1);
    await expect
      .poll(() => page.locator('[data-seq]', { hasText: /tick 3\s*$/ }).count(), {
        ...BUILD,
        message: 'no live log lines',
      })
      .toBe(1);
    expect((await api<{ status: string }>('GET', `/api/builds/${firstBuild}`)).status).toBe(
      'running',
    );
    // The ANSI colour renders as a styled span (the escape codes themselves never show).
    const coloured = page.locator('[data-seq] span[style]', { hasText: 'journey in colour' });
    expect(await coloured.count()).toBe(1);
    expect(await coloured.getAttribute('style')).toMatch(/(^|;)\s*color:/);
    expect(
      await page.locator('[data-seq]', { hasText: 'journey in colour' }).textContent(),
    ).not.toContain('[35m');
    await stack.screenshot(page, 'journey-build-live');

    // Released, it succeeds and its production deployment goes live and serves the site.
    await writeFile(gate, 'go');
    await expect
      .poll(async () => (await page.getByRole('heading', { level: 1 }).textContent()) ?? '', BUILD)
      .toContain('succeeded');
    await stack.screenshot(page, 'journey-dashboard', { fullPage: false });
    const liveDeploymentOf = (buildId: string) =>
      expect.poll(async () => {
        const { deployments } = await api<{ deployments: Deployment[] }>(
          'GET',
          `/api/projects/${projectId}/deployments?limit=100`,
        );
        return deployments.find(
          (d) => d.build_id === buildId && d.stage === 'production' && d.status === 'live',
        );
      }, BUILD);
    await liveDeploymentOf(firstBuild).toBeTruthy();
    const production = async () => {
      const project = await api<{ production_url: string | null }>(
        'GET',
        `/api/projects/${projectId}`,
      );
      return project.production_url ? (await browse(project.production_url)).body : null;
    };
    await expect.poll(production, WAIT).toBe('<h1>journey v1</h1>\n');
    const first = (
      await api<{ deployments: Deployment[] }>('GET', `/api/projects/${projectId}/deployments`)
    ).deployments.find((d) => d.build_id === firstBuild)!;

    // A second version, built from the page (the gate is open now) and deployed.
    await commit({ 'page.html': '<h1>journey v2</h1>\n' }, 'v2');
    const secondBuild = await startBuildOnPage(page, projectId, 2);
    await expect
      .poll(async () => (await page.getByRole('heading', { level: 1 }).textContent()) ?? '', BUILD)
      .toContain('succeeded');
    await liveDeploymentOf(secondBuild).toBeTruthy();
    await expect.poll(production, WAIT).toBe('<h1>journey v2</h1>\n');
    await page.goto(`/projects/${projectId}`);
    await expect.poll(() => page.locator('tr[data-build]').count(), WAIT).toBe(2);
    await stack.screenshot(page, 'journey-overview');

    // Roll back on the first deployment's page, through its confirmation dialog.
    await page.goto(`/deployments/${first.id}`);
    await page.getByRole('button', { name: 'Roll back to this deployment' }).click();
    const dialog = page.getByRole('alertdialog');
    await expect.poll(() => dialog.textContent(), WAIT).toContain('production will serve build #1');
    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    await expect.poll(() => page.getByText('serving', { exact: true }).count(), WAIT).toBe(1);
    await expect.poll(production, WAIT).toBe('<h1>journey v1</h1>\n');
    await stack.screenshot(page, 'journey-rolled-back');
  });
});
