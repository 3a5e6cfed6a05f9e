import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type ChildEnv,
  type RunningStack,
  STARTUP_TIMEOUT_MS,
  startStack,
  stopStack,
} from './stack';

/**
 * The dashboard as a Cloudflare Pages project (pages/, `npm run deploy:pages`), checked with
 * `wrangler pages dev`: Pages serves web/dist, and its Functions forward the platform's paths to
 * the local stack's Worker (`npm run dev`) through the `PLATFORM` service binding, which wrangler
 * resolves through its dev registry (a registry of this test's own, so another stack named
 * `sparki` on the machine is never the one bound). The Worker's PUBLIC_URL is the Pages origin,
 * as in production: one origin for the page, the API and the session cookies.
 */
const ROOT = join(import.meta.dirname, '../..');
const PASSWORD = 'correct horse battery staple';

let stateDir = '';
let stack: RunningStack | undefined;
let pages: ChildProcess | undefined;
let pagesOutput = '';
/** The Pages origin: everything below goes through it. */
let base = '';

function startPagesDev(port: number, inspectorPort: number, env: ChildEnv): ChildProcess {
  const wranglerRoot = dirname(createRequire(import.meta.url).resolve('wrangler/package.json'));
  const child = spawn(
    process.execPath,
    [
      join(wranglerRoot, 'bin', 'wrangler.js'),
      'pages',
      'dev',
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      // Not wrangler's default 9229, which another stack on the machine may hold.
      '--inspector-port',
      String(inspectorPort),
      '--persist-to',
      join(stateDir, 'pages-state'),
      '--show-interactive-dev-session=false',
    ],
    {
      // pages/ (its own package.json) is the project: its wrangler.toml, functions/ and .wrangler/.
      cwd: join(ROOT, 'pages'),
      env: env as unknown as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that stopping it takes workerd down too.
      detached: true,
    },
  );
  child.stdout?.on('data', (chunk) => (pagesOutput += chunk));
  child.stderr?.on('data', (chunk) => (pagesOutput += chunk));
  return child;
}

/** `wrangler pages dev` starts in seconds; a minute leaves the hook time to report why it did not. */
const PAGES_STARTUP_MS = 60_000;
const STARTUP_HOOK_MS = STARTUP_TIMEOUT_MS + PAGES_STARTUP_MS + 30_000;

async function waitFor(url: string, ok: (response: Response) => boolean) {
  const deadline = Date.now() + PAGES_STARTUP_MS;
  for (;;) {
    if (pages?.exitCode !== null) throw new Error(`wrangler pages dev exited:\n${pagesOutput}`);
    const response = await fetch(url).catch(() => undefined);
    if (response && ok(response)) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer:\n${pagesOutput}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

beforeAll(async () => {
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...env }: ChildEnv = process.env;
  stateDir = await mkdtemp(join(tmpdir(), 'sparki-pages-'));
  const registry = join(stateDir, 'wrangler-registry');
  const pagesPort = await getPort();
  base = `http://localhost:${pagesPort}`;
  const shared = { ...env, WRANGLER_REGISTRY_PATH: registry, WRANGLER_SEND_METRICS: 'false' };
  stack = await startStack(stateDir, await getPort(), {
    ...shared,
    SPARKI_DASHBOARD: 'built',
    SPARKI_PUBLIC_URL: base,
  });
  pages = startPagesDev(pagesPort, await getPort(), shared);
  // Ready once the binding answers: the Worker's /healthz, through Pages.
  await waitFor(`${base}/healthz`, (response) => response.ok);
}, STARTUP_HOOK_MS);

afterAll(async () => {
  if (pages?.pid && pages.exitCode === null) {
    const exited = new Promise((resolve) => pages!.once('exit', resolve));
    process.kill(-pages.pid, 'SIGTERM');
    await exited;
  }
  if (stack) await stopStack(stack);
  await rm(stateDir, { recursive: true, force: true });
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** A verified account signed in as the dashboard signs in: the session in `__Host-` cookies. */
async function cookieSession(): Promise<string> {
  const email = `pages-${randomUUID().slice(0, 8)}@example.com`;
  expect((await post('/api/auth/signup', { email, password: PASSWORD })).status).toBe(202);
  const mailbox = await fetch(`${base}/dev/mailbox/${encodeURIComponent(email)}`);
  const mail = (await mailbox.json()) as { messages: { text: string }[] };
  const token = /#token=([A-Za-z0-9_-]+)/.exec(mail.messages.at(-1)!.text)![1];
  expect((await post('/api/auth/verify-email', { token })).ok).toBe(true);
  const login = await post('/api/auth/login', { email, password: PASSWORD, session: 'cookie' });
  expect(login.status).toBe(200);
  const cookies = login.headers.getSetCookie().map((line) => line.split(';')[0]!);
  expect(cookies.map((cookie) => cookie.split('=')[0])).toEqual(
    expect.arrayContaining(['__Host-sparki_at', '__Host-sparki_rt']),
  );
  return cookies.join('; ');
}

describe('the dashboard as a Pages project (wrangler pages dev)', () => {
  it('serves the built dashboard from Pages, with the single-page fallback', async () => {
    const index = await readFile(join(ROOT, 'web', 'dist', 'index.html'), 'utf8');
    const probe = randomUUID();
    for (const path of ['/', `/w/${probe}/projects`]) {
      const response = await fetch(base + path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toBe(index);
    }
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)![1]!;
    const asset = await fetch(base + script);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    // Pages answered them alone: the Worker logs every request it gets, and it got none of these
    // (an API path, sent last, shows that its log is being read).
    await fetch(`${base}/api/${probe}`);
    await expect.poll(() => stack!.output().includes(`"path":"/api/${probe}"`)).toBe(true);
    expect(stack!.output()).not.toContain(`/w/${probe}/projects`);
  });

  it('forwards the API, health, /.well-known and webhooks to the Worker', async () => {
    const openapi = await fetch(`${base}/api/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(openapi.headers.get('x-request-id')).toBeTruthy();
    const doc = (await openapi.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/api/builds/{id}/logs/live');

    const jwks = await fetch(`${base}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);

    // An unknown API path is the Worker's JSON 404, never the dashboard's index.html.
    const missing = await fetch(`${base}/api/no-such-thing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');

    // A webhook for no project: the Worker answers it (Pages alone would not take a POST).
    const hook = await post(`/webhooks/github/${randomUUID()}`, {}, { 'x-github-event': 'ping' });
    expect(hook.headers.get('x-request-id')).toBeTruthy();
    expect(hook.status).toBeGreaterThanOrEqual(400);
    expect(hook.status).toBeLessThan(500);
    expect((await hook.json()) as object).toHaveProperty('error');
  });

  it('keeps the session cookie and the Origin check of cookie-authenticated mutations', async () => {
    const cookie = await cookieSession();
    const workspace = (slug: string, origin?: string) =>
      post('/api/workspaces', { name: 'Pages', slug }, { cookie, ...(origin ? { origin } : {}) });

    const me = await fetch(`${base}/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);

    // The Pages origin is the platform's (PUBLIC_URL): the mutation goes through.
    const created = await workspace(`pages-${randomUUID().slice(0, 8)}`, base);
    expect(created.status).toBe(201);

    // Another origin, or none, with the same cookie: refused by the Worker behind Pages.
    for (const origin of ['http://evil.example', undefined]) {
      const refused = await workspace(`evil-${randomUUID().slice(0, 8)}`, origin);
      expect(refused.status, String(origin)).toBe(403);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('forbidden');
      expect(body.error.message).toMatch(/Origin/);
    }
  });

  it('upgrades the live log WebSocket through the binding', async () => {
    const cookie = await cookieSession();
    const send = (path: string, body: unknown) => post(path, body, { cookie, origin: base });
    const workspace = (await (
      await send('/api/workspaces', { name: 'Live', slug: `live-${randomUUID().slice(0, 8)}` })
    ).json()) as { id: string };
    const projectAnswer = await send(`/api/workspaces/${workspace.id}/projects`, {
      name: 'live',
      slug: 'live',
      git_provider: 'github',
      repo_url: 'https://github.com/example/live',
      production_branch: 'main',
    });
    expect(projectAnswer.status).toBe(201);
    const project = (await projectAnswer.json()) as { id: string };
    const buildAnswer = await send(`/api/projects/${project.id}/builds`, {});
    expect(buildAnswer.status).toBe(201);
    const build = (await buildAnswer.json()) as { id: string };
    const ticketAnswer = await send('/api/ws-tickets', {
      purpose: 'build-logs',
      resource_id: build.id,
    });
    expect(ticketAnswer.status).toBe(201);
    const { ticket } = (await ticketAnswer.json()) as { ticket: string };

    const socket = new WebSocket(
      `${base.replace('http', 'ws')}/api/builds/${build.id}/logs/live`,
      ['sparki.v1', `ticket.${ticket}`],
      { origin: base },
    );
    try {
      const first = await new Promise<string>((resolve, reject) => {
        socket.once('message', (data) => resolve(String(data)));
        socket.once('error', reject);
        socket.once('unexpected-response', (_request, response) =>
          reject(new Error(`upgrade refused: ${response.statusCode}`)),
        );
      });
      expect(socket.protocol).toBe('sparki.v1');
      // The build session's first message, from the Durable Object behind the Worker.
      expect(JSON.parse(first)).toHaveProperty('type');
    } finally {
      socket.close();
    }

    // Without a ticket the Worker refuses the upgrade itself (401), as on its own origin.
    const refused = new WebSocket(
      `${base.replace('http', 'ws')}/api/builds/${build.id}/logs/live`,
      ['sparki.v1'],
    );
    const status = await new Promise<number>((resolve, reject) => {
      refused.once('unexpected-response', (_request, response) => resolve(response.statusCode!));
      refused.once('open', () => reject(new Error('opened without a ticket')));
      refused.once('error', reject);
    });
    expect(status).toBe(401);
  });
});
