import type { Page } from 'playwright-core';
import type { TestContext } from 'vitest';

/**
 * What the pages of a failed browser test showed: CI keeps only the log, and "timed out waiting
 * for a label" says nothing of whether the page was blank, an error, or another screen. Every
 * page is watched from its creation (console errors, failed API answers); when a test fails,
 * each page still open prints its URL, those events and its accessibility tree.
 */
const watched = new Map<Page, string[]>();

export function watchPage(page: Page): Page {
  const events: string[] = [];
  watched.set(page, events);
  page.on('pageerror', (error) => {
    throw error;
  });
  page.on('console', (message) => {
    if (message.type() === 'error') events.push(`console.error: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) {
      events.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });
  page.on('requestfailed', (request) => {
    events.push(`failed ${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
  });
  return page;
}

/** Called after each browser test (test/browser/setup.ts); prints only when it failed. */
export async function reportPagesOf(task: TestContext['task']) {
  const pages = [...watched];
  watched.clear();
  if (task.result?.state !== 'fail') return;
  for (const [page, events] of pages) {
    if (page.isClosed()) continue;
    const tree = await page
      .locator('body')
      .ariaSnapshot({ timeout: 5_000 })
      .catch((error: unknown) => `(no accessibility tree: ${error})`);
    console.error(
      [`page of the failed test "${task.name}": ${page.url()}`, ...events, tree].join('\n'),
    );
  }
}
