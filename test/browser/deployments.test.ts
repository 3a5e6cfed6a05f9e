import { createServer, type Server } from 'node:http';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browse, type E2E, git, startE2E } from '../node/e2e-helpers';
import { STARTUP_TIMEOUT_MS } from '../node/stack';
import { dohDouble } from '../workers/doh-double';
import { ensureDashboardBuilt, PASSWORD, SCREENSHOTS } from './harness';
import { watchPage } from './page-report';

/**
 * The deployments area of the dashboard against the real local stack (built dashboard), a real
 * `sparki runner` building real commits of a local repository, and the deploy engine: what a
 * person sees and does in Chromium, and what the edge host then serves.
 */

const siteFiles = (version: string) => ({
  'package.json': JSON.stringify({ name: 'dash', private: true, scripts: { build: 'node b.js' } }),
  'b.js':
    "require('node:fs').mkdirSync('dist',{recursive:true});require('node:fs').copyFileSync('page.html','dist/index.html');",
  'page.html': `<h1>dash ${version}</h1>\n`,
});

interface Deployment {
  id: string;
  build_id: string;
  stage: string;
  status: string;
  url: string | null;
  serving: boolean;
}

/** Waits for what the page shows after network round trips (a poll's default is 1 s). */
const until = <T>(probe: () => Promise<T>) => expect.poll(probe, { timeout: 20_000 });

let e2e: E2E;
/** The stack's DNS-over-HTTPS resolver: a local double, so verification never leaves the machine. */
const dns = dohDouble();
let dnsServer: Server;
let browser: Browser;
let port: number;
let base: string;
let email: string;

/** GET / at `host` on the stack, as a browser at `*.localhost` asks for it. */
const visit = (host: string) => browse(`http://${host}:${port}/`);

const deployments = async () =>
  (
    await e2e.api<{ deployments: Deployment[] }>(
      'GET',
      `/api/projects/${e2e.project.id}/deployments?limit=100`,
    )
  ).deployments;

/** Pushes `main` as it is; resolves once its production deployment is live. */
async function deployMain() {
  const sha = git(e2e.repo, 'rev-parse', 'HEAD');
  const delivered = await e2e.deliver(crypto.randomUUID(), sha);
  const build = await e2e.buildSucceeded(delivered.body.build_id!);
  const deployment = await e2e.waitFor(
    `the production deployment of ${sha} to go live`,
    async () =>
      (await deployments()).find(
        (d) => d.build_id === build.id && d.stage === 'production' && d.status === 'live',
      ),
    60_000,
  );
  return { sha, deployment };
}

async function signedInPage(as = email): Promise<Page> {
  const context = await browser.newContext({ baseURL: base });
  const page = watchPage(await context.newPage());
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(as);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
  return page;
}

/** The token in the newest mail to `to` whose text matches `about`. */
async function mailedToken(to: string, about: RegExp) {
  const mail = await e2e.api<{ messages: { text: string }[] }>(
    'GET',
    `/dev/mailbox/${encodeURIComponent(to)}`,
  );
  const text = mail.messages.filter((m) => about.test(m.text)).at(-1)!.text;
  return /#token=([A-Za-z0-9_-]+)/.exec(text)![1]!;
}

/** A verified user who joined the stack's workspace as a viewer. */
async function newViewer() {
  const viewer = `viewer-${crypto.randomUUID().slice(0, 8)}@example.com`;
  // (e2e.api sends the owner's token along; these routes do not look at it.)
  await e2e.api('POST', '/api/auth/signup', { email: viewer, password: PASSWORD });
  await e2e.api('POST', '/api/auth/verify-email', { token: await mailedToken(viewer, /verify/i) });
  await e2e.api('POST', `/api/workspaces/${e2e.workspaceId}/invites`, {
    email: viewer,
    role: 'viewer',
  });
  const session = await e2e.api<{ access_token: string }>('POST', '/api/auth/login', {
    email: viewer,
    password: PASSWORD,
  });
  const accepted = await fetch(`${base}/api/invites/accept`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${session.access_token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ token: await mailedToken(viewer, /Join as viewer/) }),
  });
  expect(accepted.status, await accepted.text()).toBe(200);
  return viewer;
}

async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

beforeAll(async () => {
  // The stack serves the built dashboard (web/dist), as production's assets binding does.
  ensureDashboardBuilt();
  dnsServer = createServer(async (incoming, outgoing) => {
    const answer = await dns.fetch(
      new Request(`http://127.0.0.1${incoming.url}`, {
        headers: { accept: incoming.headers.accept ?? '' },
      }),
    );
    outgoing.writeHead(answer.status, { 'content-type': 'application/dns-json' });
    outgoing.end(await answer.text());
  });
  await new Promise<void>((resolve) => dnsServer.listen(0, '127.0.0.1', resolve));
  const address = dnsServer.address() as { port: number };
  process.env.DNS_OVER_HTTPS_URL = `http://127.0.0.1:${address.port}/dns-query`;
  process.env.SPARKI_DASHBOARD = 'built';
  e2e = await startE2E(siteFiles('v1'));
  port = Number(new URL(e2e.base).port);
  // The platform's own origin (PUBLIC_URL): a secure context for the `__Host-` cookies.
  base = `http://localhost:${port}`;
  email = (await e2e.api<{ email: string }>('GET', '/api/me')).email;
  e2e.startRunner((await e2e.registerRunner('runner-dashboard')).config);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
}, STARTUP_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await browser?.close();
  if (e2e) await e2e.stop();
  dnsServer?.close();
});

describe('deployments in the dashboard', () => {
  it('shows the live deployment and rolls production back through the confirmation dialog', async () => {
    const first = await deployMain();
    await e2e.commit({ 'page.html': siteFiles('v2')['page.html'] }, 'v2');
    const second = await deployMain();
    const productionHost = (d: Deployment) => {
      const host = new URL(d.url!).hostname;
      return host.slice(host.indexOf('--') + 2);
    };
    expect((await visit(productionHost(second.deployment))).body).toBe('<h1>dash v2</h1>\n');

    const page = await signedInPage();
    await page.goto(`/projects/${e2e.project.id}/deployments`);
    const rows = page.getByRole('row');
    await until(() => rows.count()).toBe(3);
    // Newest first: build #2 serves production, build #1 is still live but replaced.
    await until(() => rows.nth(1).textContent()).toMatch(/live\s*serving.*production.*build #2/);
    expect(await rows.nth(2).textContent()).not.toContain('serving');
    await screenshot(page, 'deployments-list');

    await page
      .getByRole('link', { name: `build #2 (${second.sha.slice(0, 7)})`, exact: true })
      .click();
    await page.waitForURL(`**/deployments/${second.deployment.id}`);
    await until(() => page.getByText('serving', { exact: true }).count()).toBe(1);
    const link = page.getByRole('link', { name: second.deployment.url! });
    expect(await link.getAttribute('href')).toBe(second.deployment.url);
    // Its own URL serves the version it deployed.
    expect(await visit(new URL(second.deployment.url!).hostname)).toEqual({
      status: 200,
      body: '<h1>dash v2</h1>\n',
    });
    await until(() => page.getByRole('list', { name: 'Timeline' }).textContent()).toMatch(
      /validating.*deploying.*live/s,
    );
    await screenshot(page, 'deployment-page');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'deployment-page-phone');
    await page.setViewportSize({ width: 1280, height: 720 });

    await page.getByRole('button', { name: 'Roll back', exact: true }).click();
    const dialog = page.getByRole('alertdialog');
    await until(() => dialog.textContent()).toContain(
      `production will serve build #1 (${first.sha.slice(0, 7)}) again`,
    );
    await dialog.getByRole('button', { name: `Roll back to build #1` }).click();
    // The page of the deployment production serves again.
    await page.waitForURL(`**/deployments/${first.deployment.id}`);
    await until(() => page.getByText('serving', { exact: true }).count()).toBe(1);
    expect((await visit(productionHost(first.deployment))).body).toBe('<h1>dash v1</h1>\n');
    const after = await deployments();
    expect(after.find((d) => d.id === second.deployment.id)).toMatchObject({
      status: 'rolled_back',
      serving: false,
    });

    // Redeploying the build production serves makes a new deployment of it, which goes live.
    await page.getByRole('button', { name: 'Redeploy', exact: true }).click();
    await until(() => dialog.textContent()).toContain(
      `A new deployment of build #1 (${first.sha.slice(0, 7)}) to production starts`,
    );
    await dialog.getByRole('button', { name: 'Redeploy' }).click();
    await page.waitForURL((url) => !url.pathname.endsWith(first.deployment.id));
    const redeployed = page.url().split('/').at(-1)!;
    await until(() => page.getByText('serving', { exact: true }).count()).toBe(1);
    expect((await deployments()).find((d) => d.id === redeployed)).toMatchObject({
      build_id: first.deployment.build_id,
      status: 'live',
      serving: true,
    });
    expect((await visit(productionHost(first.deployment))).body).toBe('<h1>dash v1</h1>\n');
  });

  it('edits variables as .env text with secrets masked, changes deploy settings, adds and verifies a domain', async () => {
    const page = await signedInPage();
    await page.goto(`/projects/${e2e.project.id}/environments`);
    const production = page.getByRole('region', { name: /^production/ });
    await production.getByRole('button', { name: 'Edit as .env' }).click();
    await production
      .getByLabel('production variables as .env')
      .fill('API_URL=https://api.example.com\nGREETING="hello world" # a comment\n');
    await production.getByRole('button', { name: 'Save variables' }).click();
    const dialog = page.getByRole('alertdialog');
    await until(() => dialog.textContent()).toContain('set API_URL, GREETING');
    await dialog.getByRole('button', { name: 'Save' }).click();
    const table = production.getByRole('table', { name: 'production variables' });
    await until(() => table.textContent()).toContain('https://api.example.com');
    expect(await table.textContent()).toContain('hello world');

    await production.getByRole('button', { name: 'Paste .env' }).click();
    await production
      .getByLabel('Paste .env into production')
      .fill('STRIPE_KEY=sk_test_secret_42\n');
    await production.getByLabel('Store these values as secrets').check();
    await production.getByRole('button', { name: 'Save variables' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Save' }).click();
    await until(() => table.textContent()).toContain('STRIPE_KEY');
    const secretRow = table.getByRole('row', { name: /STRIPE_KEY/ });
    expect(await secretRow.textContent()).toContain('••••••••');
    // Write-only: the value is nowhere on the page, nor in what the API gives the page.
    await page.reload();
    await until(() => table.textContent()).toContain('STRIPE_KEY');
    expect(await page.content()).not.toContain('sk_test_secret_42');
    await screenshot(page, 'environments');

    // Deploy settings: the API's problems are listed, then a valid change is shown.
    const target = production.locator('section', {
      has: page.getByRole('heading', { name: 'Deploy target' }),
    });
    await production.getByRole('button', { name: 'Change' }).click();
    await production.getByLabel('Settings (JSON)').fill('{"health_check": {"path": "no-slash"}}');
    await production.getByRole('button', { name: 'Save deploy settings' }).click();
    await until(() => production.getByRole('alert').textContent()).toContain(
      'The deploy settings are not valid',
    );
    expect(await production.getByText(/deploy_config\.health_check\.path/).count()).toBe(1);
    await production.getByLabel('Settings (JSON)').fill('{"health_check": {"path": "/"}}');
    await production.getByLabel('Deploy each successful build on its own').uncheck();
    await production.getByRole('button', { name: 'Save deploy settings' }).click();
    await until(() => target.textContent()).toContain('Deploys on its ownno');

    await page.goto(`/projects/${e2e.project.id}/domains`);
    await page.getByLabel('Domain', { exact: true }).fill('www.dash-example.com');
    await page.getByRole('button', { name: 'Add domain' }).click();
    const record = page.getByRole('definition').filter({ hasText: '_sparki-challenge' });
    await until(() => record.textContent()).toContain('_sparki-challenge.www.dash-example.com');
    expect(await page.getByText('pending verification').count()).toBe(1);
    expect(await page.getByText(/^sparki-verify=[0-9a-f]{32}$/).count()).toBe(1);
    // A bad name is refused with the API's reason.
    await page.getByLabel('Domain', { exact: true }).fill('10.0.0.1');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await until(() => page.getByRole('alert').textContent()).toContain('not valid');
    await screenshot(page, 'domains');

    // Verify: first without the record (what was found is said), then with it.
    const value = (await page.getByText(/^sparki-verify=/).textContent())!;
    await page.getByRole('button', { name: 'Verify' }).click();
    await until(() => page.getByRole('status').filter({ hasText: 'Not verified' }).count()).toBe(1);
    expect(
      await page
        .getByText(/no TXT record found at _sparki-challenge\.www\.dash-example\.com/)
        .count(),
    ).toBe(1);
    dns.txt.set('_sparki-challenge.www.dash-example.com', [value]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await until(() => page.getByText('verified', { exact: true }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Verify' }).count()).toBe(0);
    // The verified domain serves production.
    expect((await visit('www.dash-example.com')).body).toBe('<h1>dash v1</h1>\n');
  });

  it('shows a viewer the same screens without any control that changes something', async () => {
    const page = await signedInPage(await newViewer());
    const serving = (await deployments()).find((d) => d.serving && d.stage === 'production')!;
    await page.goto(`/deployments/${serving.id}`);
    await until(() => page.getByText('serving', { exact: true }).count()).toBe(1);
    await until(() => page.getByRole('heading', { name: 'Health checks' }).count()).toBe(1);
    for (const name of ['Roll back', 'Redeploy', 'Promote to production', 'Cancel']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }

    await page.goto(`/projects/${e2e.project.id}/environments`);
    await until(() => page.getByRole('table', { name: 'production variables' }).count()).toBe(1);
    for (const name of ['Edit as .env', 'Paste .env', 'Delete', 'Add variable', 'Change']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }

    await e2e.api('POST', `/api/projects/${e2e.project.id}/domains`, {
      hostname: 'pending.dash-example.com',
    });
    await page.goto(`/projects/${e2e.project.id}/domains`);
    await until(() => page.getByText('pending.dash-example.com', { exact: true }).count()).toBe(1);
    // A viewer also reads the instructions of a pending domain.
    expect(await page.getByText('_sparki-challenge.pending.dash-example.com').count()).toBe(1);
    for (const name of ['Add domain', 'Verify', 'Remove']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }
  });
});
