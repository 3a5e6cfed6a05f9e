import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { LogLine } from '../../core/log-stream';
import type { ApiCall } from '../node/e2e-helpers';
import { type BuildStack, startBuildStack } from './build-stack';
import type { BrowserStack } from './harness';

/**
 * The build page against the real stack and a real `sparki runner`: the build prints coloured
 * lines slowly and only ends when the test writes its gate file, so "while it runs" needs no
 * clock.
 */
const buildScript = (gate: string) => `
const fs = require('node:fs');
console.log('\\x1b[31mred alert\\x1b[0m and \\x1b[1;32mbold green\\x1b[0m');
console.log('a needle in the log');
let tick = 0;
const timer = setInterval(() => {
  tick++;
  console.log('tick ' + tick);
  if (!fs.existsSync(${JSON.stringify(gate)}) && tick < 600) return;
  clearInterval(timer);
  console.log('\\x1b[36mdone\\x1b[0m');
  fs.mkdirSync('dist', { recursive: true });
  fs.writeFileSync('dist/index.html', '<h1>ok</h1>');
}, 150);
`;

/** Keeps every WebSocket the page opens in `window.__sockets` (the test drops one on purpose). */
const SOCKET_SPY = `
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      window.__sockets.push(this);
    }
  };
`;

const LONG = { timeout: 15_000 };

let builds: BuildStack;
let stack: BrowserStack;
let api: ApiCall;
let owner: { email: string };
let workspaceId: string;
let projectId: string;

beforeAll(async () => {
  builds = await startBuildStack('builder');
  ({ stack, api, owner, workspaceId } = builds);
});

afterAll(() => builds?.stop());

/** A new user who joined the workspace with `role` through a mailed invitation. */
async function member(role: 'viewer' | 'developer') {
  const user = await stack.newUser(role);
  await api('POST', `/api/workspaces/${workspaceId}/invites`, { email: user.email, role });
  const mail = await api<{ messages: { text: string }[] }>(
    'GET',
    `/dev/mailbox/${encodeURIComponent(user.email)}`,
  );
  const invite = /#token=([A-Za-z0-9_-]+)/.exec(mail.messages.at(-1)!.text)![1];
  await stack.api('POST', '/api/invites/accept', { token: invite }, user.token);
  const { id } = await stack.api<{ id: string }>('GET', '/api/me', undefined, user.token);
  return { ...user, id };
}

/** In the page: an element's computed text colour (the Node project's types have no DOM). */
const computedColour = (element: unknown) =>
  (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(
    element,
  ).color;

/** Cancel, confirmed in its dialog. */
async function cancelBuild(page: Page) {
  await page.getByRole('button', { name: 'Cancel build' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel build' }).click();
}

/** The sequence numbers and texts of the log rows in the page, in order. */
function rowsOf(page: Page) {
  return page.$$eval('[data-seq]', (rows) =>
    rows.map((row) => ({
      seq: Number(row.getAttribute('data-seq')),
      text: row.querySelector('span.whitespace-pre')?.textContent ?? '',
    })),
  );
}

async function apiLines(buildId: string): Promise<LogLine[]> {
  const page = await api<{ lines: LogLine[] }>('GET', `/api/builds/${buildId}/logs?limit=5000`);
  return page.lines;
}

describe('the build page', () => {
  it('shows the log live, in colour, with permalinks, search, and no gap or duplicate after a reconnection', async () => {
    onTestFailed(() => console.error(`runner output:\n${builds.runnerOutput()}`));
    const gate = join(stack.stateDir, 'gate-live');
    const started = await builds.startScriptBuild('live-log', buildScript(gate));
    projectId = started.projectId;
    const { build } = started;

    const page = await stack.newPage();
    await page.setViewportSize({ width: 1280, height: 3000 });
    // Every socket the page opens, so the test can drop one as a network failure would.
    await page.addInitScript(SOCKET_SPY);
    // The page asks for packed lines, and that is what it gets and shows.
    const frameTypes = new Set<string>();
    page.on('websocket', (socket) => {
      if (!socket.url().includes('/logs/live?') || !socket.url().includes('lines=packed')) return;
      socket.on('framereceived', ({ payload }) => {
        if (typeof payload === 'string' && payload.startsWith('{')) {
          frameTypes.add((JSON.parse(payload) as { type: string }).type);
        }
      });
    });
    await stack.signIn(page, owner.email);
    await page.goto(`/builds/${build.id}`);
    await expect
      .poll(() => page.getByRole('heading', { name: `Build #${build.number}` }).count(), LONG)
      .toBe(1);

    // Lines arrive while the build runs (it cannot end before the gate file exists).
    await expect
      .poll(() => page.locator('[data-seq]', { hasText: /tick 3\s*$/ }).count(), {
        timeout: 90_000,
        message: 'no live lines',
      })
      .toBe(1);
    expect((await api<{ status: string }>('GET', `/api/builds/${build.id}`)).status).toBe(
      'running',
    );
    await expect
      .poll(() => page.getByTestId('log-connection').getAttribute('data-state'), LONG)
      .toBe('live');
    await expect
      .poll(() => page.getByTestId('log-watching').textContent(), LONG)
      .toBe('1 watching');
    expect(frameTypes).toContain('lines_packed');
    expect(frameTypes).not.toContain('lines');

    // ANSI colours render as styled spans, never as markup, in the theme's palette (light here).
    const red = page.locator('[data-seq] span', { hasText: /^red alert$/ });
    const plain = page.locator('[data-seq] span', { hasText: /^ and $/ });
    const colourOf = (span: typeof red) => span.evaluate(computedColour);
    expect(await red.getAttribute('style')).toContain('color');
    expect(await colourOf(red)).toBe('rgb(185, 28, 28)');
    expect(await colourOf(plain)).not.toBe(await colourOf(red));
    expect(await page.locator('[data-seq]', { hasText: 'red alert' }).textContent()).not.toContain(
      '[31m',
    );
    await stack.screenshot(page, 'build-log-live');

    // Search finds the line and marks it.
    await page.getByRole('searchbox', { name: 'Search the log' }).fill('needle');
    await page.getByRole('searchbox', { name: 'Search the log' }).press('Enter');
    const current = page.locator('[data-current-match]');
    await expect.poll(() => current.count(), LONG).toBe(1);
    expect(await current.locator('mark').textContent()).toBe('needle');
    expect(await current.textContent()).toContain('a needle in the log');

    // A forced reconnection: the page resumes after the last line it has, while lines keep coming.
    const before = (await rowsOf(page)).length;
    await page.evaluate('window.__sockets.at(-1).close()');
    await expect.poll(() => page.evaluate('window.__sockets.length'), LONG).toBe(2);
    // It asked to resume after the lines it had, not for the whole log again.
    const resumed = new URL(String(await page.evaluate('window.__sockets[1].url')));
    expect(Number(resumed.searchParams.get('after'))).toBeGreaterThanOrEqual(before);
    await expect
      .poll(() => page.getByTestId('log-connection').getAttribute('data-state'), LONG)
      .toBe('live');
    await expect.poll(async () => (await rowsOf(page)).length, LONG).toBeGreaterThan(before + 3);

    // The build ends; the page shows every line the platform stored, each once, in order.
    await writeFile(gate, 'go');
    await expect
      .poll(() => page.getByTestId('log-connection').getAttribute('data-state'), {
        timeout: 60_000,
      })
      .toBe('ended');
    const stored = await apiLines(build.id);
    await expect.poll(async () => (await rowsOf(page)).length, LONG).toBe(stored.length);
    const shown = await rowsOf(page);
    expect(shown.map((row) => row.seq)).toEqual(stored.map((line) => line.seq));
    expect(shown.find((row) => row.text.includes('tick 3'))).toBeTruthy();
    const ticks = shown.filter((row) => /^tick \d+$/.test(row.text)).map((row) => row.text);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(ticks).toEqual(ticks.map((_, index) => `tick ${index + 1}`));
    await expect
      .poll(async () => (await page.getByRole('heading', { level: 1 }).textContent()) ?? '', LONG)
      .toContain('succeeded');

    // A permalink selects its line, after a reload too.
    await page.goto(`/builds/${build.id}#L2`);
    // Only the fragment changed: that alone selects (hashchange); a reload must read it too.
    await expect
      .poll(() => page.locator('[data-seq="2"]').getAttribute('data-selected'), LONG)
      .toBe('true');
    await page.reload();
    expect(await page.getByRole('searchbox', { name: 'Search the log' }).inputValue()).toBe('');
    const second = page.locator('[data-seq="2"]');
    await expect.poll(() => second.getAttribute('data-selected'), LONG).toBe('true');
    expect(await page.locator('[data-selected]').count()).toBe(1);
    // Shift-click extends the selection into a range, and the address says which.
    await page.getByRole('link', { name: 'Line 4', exact: true }).click({ modifiers: ['Shift'] });
    await expect.poll(() => page.locator('[data-selected]').count(), LONG).toBe(3);
    expect(new URL(page.url()).hash).toBe('#L2-L4');
    await stack.screenshot(page, 'build-log');

    // Retry, after saying what it does, opens the new build's page.
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByRole('button', { name: 'Start a new build' }).click();
    await page.waitForURL((url) => !url.pathname.endsWith(build.id));
    await expect
      .poll(() => page.getByRole('heading', { name: `Build #${build.number + 1}` }).count(), LONG)
      .toBe(1);
  });

  it('shows a viewer the log without Cancel or Retry, following the end until they scroll up', async () => {
    const list = await api<{ builds: { id: string; status: string }[] }>(
      'GET',
      `/api/projects/${projectId}/builds`,
    );
    // The first build: its log is longer than the page is tall.
    const finished = list.builds.at(-1)!;
    const viewer = await member('viewer');
    const page = await stack.newPage();
    await page.setViewportSize({ width: 1280, height: 600 });
    await stack.signIn(page, viewer.email);
    await page.goto(`/builds/${finished.id}`);
    await expect.poll(() => page.locator('[data-seq]', { hasText: 'done' }).count(), LONG).toBe(1);
    await expect
      .poll(() => page.getByTestId('log-connection').getAttribute('data-state'), LONG)
      .toBe('ended');
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Cancel/ }).count()).toBe(0);

    // Opened at the end; scrolling up stops following, and the way back resumes it.
    const scroller = `document.querySelector('[data-testid="log-scroller"]')`;
    const atBottom = () =>
      page.evaluate(`(s => s.scrollHeight - s.scrollTop - s.clientHeight <= 8)(${scroller})`);
    const follow = page.getByRole('button', { name: /^Follow/ });
    await expect.poll(atBottom, LONG).toBe(true);
    expect(await follow.getAttribute('aria-pressed')).toBe('true');
    await page.evaluate(`${scroller}.scrollTop = 0`);
    await expect.poll(() => follow.getAttribute('aria-pressed'), LONG).toBe('false');
    expect(await page.locator('[data-seq="1"]').count()).toBe(1);
    await page.getByRole('button', { name: 'Jump to the end' }).click();
    await expect.poll(atBottom, LONG).toBe(true);
    expect(await follow.getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('[data-seq]', { hasText: 'done' }).count()).toBe(1);

    // On a phone, in the dark theme: colours from the dark palette.
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    await page.setViewportSize({ width: 390, height: 800 });
    const red = page.locator('[data-seq] span', { hasText: /^red alert$/ });
    await page.evaluate(`${scroller}.scrollTop = 0`);
    await expect.poll(() => red.evaluate(computedColour), LONG).toBe('rgb(248, 113, 113)');
    await stack.screenshot(page, 'build-log-phone-dark');
  });

  it('cancels a running build, and shows why when the API refuses', async () => {
    onTestFailed(() => console.error(`runner output:\n${builds.runnerOutput()}`));
    // The gate is never written: the build runs until it is canceled.
    const { build } = await builds.startScriptBuild(
      'cancel-log',
      buildScript(join(stack.stateDir, 'gate-never')),
    );
    const developer = await member('developer');
    const devPage = await stack.newPage();
    await stack.signIn(devPage, developer.email);
    await devPage.goto(`/builds/${build.id}`);
    // Anchored: "tick 1" alone also matches ticks 10–19 and 100–199, so a page that opened
    // after tick 10 never counted exactly one and waited out the build (a CI failure).
    await expect
      .poll(() => devPage.locator('[data-seq]', { hasText: /tick 1\s*$/ }).count(), {
        timeout: 90_000,
      })
      .toBe(1);

    // Their role is lowered while the page is open: the API refuses, and the page says why.
    await api('PATCH', `/api/workspaces/${workspaceId}/members/${developer.id}`, {
      role: 'viewer',
    });
    await cancelBuild(devPage);
    const notice = devPage.getByTestId('action-error');
    await expect.poll(() => notice.count(), LONG).toBe(1);
    expect(await notice.textContent()).toMatch(/request id/);
    expect((await api<{ status: string }>('GET', `/api/builds/${build.id}`)).status).toBe(
      'running',
    );

    // The owner cancels it: the runner stops the build and both pages show it without a reload.
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`/builds/${build.id}`);
    await cancelBuild(page);
    for (const watcher of [page, devPage]) {
      await expect
        .poll(() => watcher.getByRole('heading', { level: 1 }).textContent(), { timeout: 60_000 })
        .toContain('canceled');
      await expect
        .poll(() => watcher.getByTestId('log-connection').getAttribute('data-state'), LONG)
        .toBe('ended');
    }
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(1);
  });

  it('shows "not found" to someone outside the workspace, with no log', async () => {
    const list = await api<{ builds: { id: string }[] }>(
      'GET',
      `/api/projects/${projectId}/builds`,
    );
    const buildId = list.builds[0]!.id;
    const stranger = await stack.newUser('stranger');
    const page = await stack.newPage();
    await stack.signIn(page, stranger.email);
    await page.goto(`/builds/${buildId}`);
    await stack.screenshot(page, 'build-log-stranger');
    await expect.poll(() => page.getByRole('heading', { name: 'Not found' }).count(), LONG).toBe(1);
    expect(await page.locator('[data-seq]').count()).toBe(0);
  });
});
