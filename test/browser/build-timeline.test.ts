import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { type BuildStack, startBuildStack } from './build-stack';

/**
 * The build page's timeline, from a real build: a runner builds the commit, the deploy engine
 * puts it live, and the page fills in the phases as they happen, each with its duration.
 */
const BUILD_JS = `
const fs = require('node:fs');
fs.mkdirSync('dist', { recursive: true });
fs.writeFileSync('dist/index.html', '<h1>timeline</h1>');
`;

const LONG = { timeout: 90_000 };

let builds: BuildStack;

beforeAll(async () => {
  builds = await startBuildStack('timeline');
});

afterAll(() => builds?.stop());

describe('the build page’s timeline', () => {
  it('shows each phase of a build on its way to live, in order, with its duration', async () => {
    onTestFailed(() => console.error(`runner output:\n${builds.runnerOutput()}`));
    const { stack, owner } = builds;
    const { build } = await builds.startScriptBuild('timeline', BUILD_JS);

    const page = await stack.newPage();
    await stack.signIn(page, owner.email);
    await page.goto(`/builds/${build.id}`);
    const timeline = page.getByRole('region', { name: 'Timeline' });
    const phases = () =>
      timeline
        .locator('li[data-phase]')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-phase')));
    // The page keeps asking while the pipeline runs: the deployment's phases appear without a reload.
    await expect.poll(phases, LONG).toContain('live');
    expect(await phases()).toEqual([
      'queued',
      'planned',
      'runner_picked',
      'checkout',
      'build',
      'upload',
      'deploy',
      'health_check',
      'live',
    ]);
    const row = timeline.locator('li[data-phase="health_check"]');
    expect(await row.getAttribute('data-status')).toBe('ok');
    expect(await row.textContent()).toMatch(/^health check\d+(\.\d)? (ms|s)$/);
    const api = await builds.api<{ trace_id: string; total_ms: number }>(
      'GET',
      `/api/builds/${build.id}/timeline`,
    );
    expect(await page.getByTestId('timeline-total').textContent()).toContain(api.trace_id);
    await stack.screenshot(page, 'build-timeline');
  });
});
