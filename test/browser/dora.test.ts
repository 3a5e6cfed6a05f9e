import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLink } from '../../cli/client';
import { runSparki } from '../../cli/spawn-sparki';
import type { DoraReport } from '../../core/dora/report';
import { DORA_T0, seedDoraHistory } from '../dora-history';
import { withDb } from '../node/e2e-helpers';
import { type BrowserStack, startBrowserStack } from './harness';

/**
 * The DORA page and `sparki dora` against the real local stack, over the production history of
 * test/dora-history.ts (written into its Postgres), whose figures are worked out there.
 */

const DAY = 86_400_000;
const poll = <T>(probe: () => Promise<T>) => expect.poll(probe, { timeout: 20_000 });
const WINDOW = `from=${new Date(DORA_T0).toISOString()}&to=${new Date(DORA_T0 + 2 * DAY).toISOString()}`;

let stack: BrowserStack;
let owner: { email: string; token: string };

async function newWorkspaceWithProjects(names: string[]) {
  const suffix = crypto.randomUUID().slice(0, 8);
  const workspace = await stack.api<{ id: string }>(
    'POST',
    '/api/workspaces',
    { name: `Team ${suffix}`, slug: `team-${suffix}` },
    owner.token,
  );
  const projects: string[] = [];
  for (const name of names) {
    const project = await stack.api<{ id: string }>(
      'POST',
      `/api/workspaces/${workspace.id}/projects`,
      { name, slug: `${name.toLowerCase()}-${suffix}`, git_provider: 'none' },
      owner.token,
    );
    projects.push(project.id);
  }
  return { workspaceId: workspace.id, projects };
}

beforeAll(async () => {
  stack = await startBrowserStack();
  owner = await stack.newUser('dora');
}, 240_000);
afterAll(() => stack?.stop());

describe('the DORA page', () => {
  it('shows the seeded history’s five metrics, bands and the deployments behind them', async () => {
    const { workspaceId, projects } = await newWorkspaceWithProjects(['Shop', 'Docs']);
    const [shop, docs] = projects as [string, string];
    await withDb(stack.stack.postgresUrl, (db) => seedDoraHistory(db, { main: shop, other: docs }));
    const page = await stack.newPage();
    await stack.signIn(page, owner.email);

    await page.goto(`/projects/${shop}/dora?${WINDOW}`);
    const card = (name: string) => page.getByRole('region', { name });
    await poll(() => card('Deployment frequency').textContent()).toContain('2.00 / day');
    expect(await card('Deployment frequency').textContent()).toContain('elite');
    expect(await card('Deployment frequency').textContent()).toContain('4 deployments');
    expect(await card('Change lead time').textContent()).toContain('2 h 00 m');
    expect(await card('Change lead time').textContent()).toContain('elite');
    expect(await card('Change fail rate').textContent()).toContain('50 %');
    expect(await card('Change fail rate').textContent()).toContain('low');
    expect(await card('Failed deployment recovery time').textContent()).toContain('35 m');
    expect(await card('Deployment rework rate').textContent()).toContain('25 %');
    expect(await card('Deployment rework rate').textContent()).toContain('no band');
    expect(await page.getByRole('img', { name: 'Change fail rate over time' }).count()).toBe(1);

    // Every deployment of the window, then only the two that failed.
    const rows = page.getByRole('table').locator('tbody tr');
    await poll(() => rows.count()).toBe(4);
    await card('Change fail rate').getByRole('button', { name: '2 of 4 failed' }).click();
    await poll(() => rows.count()).toBe(2);
    const failed = await rows.allTextContents();
    expect(failed[0]).toContain('Add wishlist');
    expect(failed[0]).toContain('rolled back, recovered in 1 h 00 m');
    expect(failed[1]).toContain('Faster images');
    expect(failed[1]).toContain('recovered in 10 m');
    await card('Deployment rework rate').getByRole('button', { name: '1 of 4 unplanned' }).click();
    await poll(() => rows.allTextContents()).toEqual([expect.stringContaining('Hotfix: tax')]);
    await stack.screenshot(page, 'dora-project');

    // The workspace's page takes both projects' deployments.
    await page.goto(`/w/${workspaceId}/dora?${WINDOW}`);
    await poll(() => card('Deployment frequency').textContent()).toContain('5 deployments');
    expect(await card('Change fail rate').textContent()).toContain('40 %');
    expect(await card('Deployment rework rate').textContent()).toContain('20 %');

    // A named window from the page's own links: the history is long past, nothing in it.
    await page.goto(`/projects/${shop}/dora`);
    await page.getByRole('link', { name: 'Last 90 days' }).click();
    await poll(() => page.getByText('No production deployments in this window').count()).toBe(1);
  });
});

describe('sparki dora', () => {
  it('prints the same figures for the linked project, as a table or JSON, and exit 2 on a bad window', async () => {
    // The same history, three days ago: inside the last 7 days.
    const { workspaceId, projects } = await newWorkspaceWithProjects(['Shop']);
    const t0 = Date.now() - 3 * DAY;
    const ids = await withDb(stack.stack.postgresUrl, (db) =>
      seedDoraHistory(db, { main: projects[0]!, t0 }),
    );
    const dir = await mkdtemp(join(tmpdir(), 'sparki-dora-'));
    await writeLink(dir, { project_id: projects[0]!, workspace_id: workspaceId, url: stack.base });
    const env = { ...process.env, SPARKI_TOKEN: owner.token, NO_COLOR: '1' };
    try {
      const json = await runSparki(['dora', '--window', '7d', '--json'], { cwd: dir, env });
      expect(json.code, json.stderr).toBe(0);
      const report = JSON.parse(json.stdout) as DoraReport;
      expect(report.deployment_frequency.deployments).toBe(4);
      expect(report.change_lead_time.median_seconds).toBe(7200);
      expect(report.change_fail_rate).toMatchObject({
        rate: 0.5,
        deployment_ids: [ids.a2, ids.a3],
      });
      expect(report.failed_deployment_recovery_time.median_seconds).toBe(2100);
      expect(report.deployment_rework_rate.deployment_ids).toEqual([ids.a4]);

      const table = await runSparki(['dora', '--window', '7d'], { cwd: dir, env });
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/Change fail rate\s+50%\s+2 of 4\s+low/);
      expect(table.stdout).toMatch(/Change lead time\s+2h 0m\s+median of 3 changes\s+elite/);
      expect(table.stdout).toMatch(/Failed deployment recovery time\s+35m/);

      const bad = await runSparki(['dora', '--window', '14d'], { cwd: dir, env });
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
