import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import examples from '@octokit/webhooks-examples';
import { eq } from 'drizzle-orm';
import getPort from 'get-port';
import { x as extract } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPlatformProxy } from 'wrangler';
import { WebSocket } from 'ws';
import { type ViewerMessage, ViewerMessageSchema } from '../../core/log-stream';
import { createDb } from '../../db/client';
import { builds } from '../../db/schema';
import { postgresTarget, startNeonProxy } from '../../dev/neon-proxy';
import {
  type ChildEnv,
  type RunningStack,
  STARTUP_TIMEOUT_MS,
  startStack,
  stopStack,
} from './stack';

/**
 * Push to build with nothing faked: the dev stack (`npm run dev`: wrangler dev with the real
 * Worker, queues, Durable Objects and R2, embedded Postgres), a real git repository, signed
 * GitHub deliveries and `sparki runner` as real processes.
 */
const execFileAsync = promisify(execFile);
const BIN = join(import.meta.dirname, '../../cli/bin.mjs');
const PASSWORD = 'correct horse battery staple';
const SECRET = 'e2e-s3cret-value-do-not-leak';

const BUILD_JS = `
const fs = require('node:fs');
const secret = process.env.API_SECRET;
console.log('building ' + fs.readFileSync('version.txt', 'utf8').trim());
console.log('the secret is ' + secret);
console.log('base64: ' + Buffer.from(secret).toString('base64'));
for (let i = 0; i < 50; i++) console.log('line ' + i);
setTimeout(() => {
  fs.mkdirSync('dist', { recursive: true });
  fs.writeFileSync('dist/index.html', '<h1>e2e</h1>');
}, Number(process.env.BUILD_DELAY_MS || 0));
`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

/** What the runners printed, for the message of a test that fails. */
let runnerOutput = '';

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, ms: number) {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - start > ms) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}; runners:\n${runnerOutput}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface Build {
  id: string;
  status: string;
  attempt: number;
  runner_id: string | null;
  error: string | null;
  commit_sha: string | null;
}

describe('push to build, end to end', () => {
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...env }: ChildEnv = process.env;
  const runners: ChildProcess[] = [];
  let stack: RunningStack;
  let stateDir: string;
  let base: string;
  let token: string;
  let workspaceId: string;
  let project: { id: string; webhook_secret: string };
  let repo: string;
  let sha: string;

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(base + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    expect(response.ok, `${method} ${path}: ${response.status} ${text}`).toBe(true);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async function registerRunner(name: string, url = base): Promise<{ config: string; id: string }> {
    const { token: registration } = await api<{ token: string }>(
      'POST',
      `/api/workspaces/${workspaceId}/runner-registration-tokens`,
      { expires_in_hours: 1 },
    );
    const config = join(stateDir, `${name}.json`);
    // Not execFileSync: the recording proxy runs in this process and must answer meanwhile.
    await execFileAsync(
      process.execPath,
      [BIN, 'runner', 'register', '--url', url, '--name', name, '--config', config],
      { env: { ...process.env, SPARKI_REGISTRATION_TOKEN: registration } },
    );
    return { config, id: JSON.parse(await readFile(config, 'utf8')).runner_id };
  }

  function startRunner(config: string): ChildProcess {
    const child = spawn(
      process.execPath,
      [BIN, 'runner', 'start', '--config', config, '--work-dir', join(stateDir, 'work')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (chunk) => {
      runnerOutput += chunk;
    });
    runners.push(child);
    return child;
  }

  async function deliver(deliveryId: string, commit: string) {
    const payload = structuredClone(
      examples
        .find((entry) => entry.name === 'push')!
        .examples.find((example) => (example as { ref?: string }).ref === 'refs/heads/master'),
    ) as Record<string, unknown>;
    payload.ref = 'refs/heads/main';
    payload.repository = { ...(payload.repository as object), clone_url: `file://${repo}` };
    payload.after = commit;
    payload.head_commit = { ...(payload.head_commit as object), id: commit, message: 'e2e' };
    const body = JSON.stringify(payload);
    const signature = createHmac('sha256', project.webhook_secret).update(body).digest('hex');
    const response = await fetch(`${base}/webhooks/github/${project.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': `sha256=${signature}`,
      },
      body,
    });
    return {
      status: response.status,
      body: (await response.json()) as { status: string; build_id?: string },
    };
  }

  const projectBuilds = async () =>
    (await api<{ builds: Build[] }>('GET', `/api/projects/${project.id}/builds`)).builds;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'sparki-e2e-'));
    const port = await getPort();
    base = `http://127.0.0.1:${port}`;
    stack = await startStack(stateDir, port, env);

    const email = `e2e-${randomUUID().slice(0, 8)}@example.com`;
    token = '';
    expect(
      (await fetch(`${base}/api/auth/signup`, post({ email, password: PASSWORD }))).status,
    ).toBe(202);
    const mail = await api<{ messages: { subject: string; text: string }[] }>(
      'GET',
      `/dev/mailbox/${encodeURIComponent(email)}`,
    );
    const verify = /#token=([A-Za-z0-9_-]+)/.exec(mail.messages.at(-1)!.text)![1];
    await api('POST', '/api/auth/verify-email', { token: verify });
    token = (
      await api<{ access_token: string }>('POST', '/api/auth/login', { email, password: PASSWORD })
    ).access_token;
    workspaceId = (
      await api<{ id: string }>('POST', '/api/workspaces', {
        name: 'E2E',
        slug: `e2e-${randomUUID().slice(0, 8)}`,
      })
    ).id;

    repo = join(stateDir, 'repo');
    await mkdir(repo);
    git(repo, 'init', '--quiet', '--initial-branch=main');
    await writeFile(
      join(repo, 'package.json'),
      JSON.stringify({ name: 'e2e', private: true, scripts: { build: 'node build.js' } }),
    );
    await writeFile(join(repo, 'build.js'), BUILD_JS);
    await writeFile(join(repo, 'version.txt'), 'v1\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'v1');
    sha = git(repo, 'rev-parse', 'HEAD');

    project = await api('POST', `/api/workspaces/${workspaceId}/projects`, {
      name: 'E2E',
      slug: 'e2e',
      git_provider: 'github',
      repo_url: `file://${repo}`,
      production_branch: 'main',
    });
    await api('PATCH', `/api/projects/${project.id}/settings`, {
      overrides: { installCommand: null, outputDirectory: 'dist' },
    });
    await api('PUT', `/api/projects/${project.id}/environments/production/variables/API_SECRET`, {
      value: SECRET,
      secret: true,
    });
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    for (const child of runners) if (child.exitCode === null) child.kill('SIGKILL');
    if (stack) expect(await stopStack(stack)).toBe(0);
    await rm(stateDir, { recursive: true, force: true });
  });

  /** A log viewer over the live WebSocket, as the dashboard opens it. */
  async function watch(buildId: string) {
    const { ticket } = await api<{ ticket: string }>('POST', '/api/ws-tickets', {
      purpose: 'build-logs',
      resource_id: buildId,
    });
    const socket = new WebSocket(`${base.replace('http', 'ws')}/api/builds/${buildId}/logs/live`, [
      'sparki.v1',
      `ticket.${ticket}`,
    ]);
    const messages: ViewerMessage[] = [];
    socket.on('message', (data) => messages.push(ViewerMessageSchema.parse(JSON.parse(`${data}`))));
    const closed = new Promise<number>((resolve) => socket.on('close', resolve));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const lines = () => messages.flatMap((m) => (m.type === 'lines' ? m.lines : []));
    return { messages, lines, closed };
  }

  it('one signed push delivered three times: one build, run by a real runner, watched live, output in R2', async () => {
    const runner = await registerRunner('runner-a');
    const deliveryId = randomUUID();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await deliver(deliveryId, sha));
    expect(answers.map((answer) => answer.body.status)).toEqual([
      'queued',
      'duplicate',
      'duplicate',
    ]);
    const buildId = answers[0]!.body.build_id!;
    const early = await watch(buildId);
    await waitFor(
      'the replay',
      async () => early.messages.some((m) => m.type === 'caught_up'),
      10_000,
    );
    startRunner(runner.config);

    const build = await waitFor(
      'the build to succeed',
      async () => {
        const [only, ...others] = await projectBuilds();
        expect(others).toEqual([]);
        if (only && ['failed', 'canceled', 'timed_out'].includes(only.status)) {
          throw new Error(`build ended ${only.status}: ${only.error}`);
        }
        return only?.status === 'succeeded' && only;
      },
      90_000,
    );
    expect(build).toMatchObject({ id: buildId, commit_sha: sha, runner_id: runner.id, attempt: 1 });

    // The viewer that was there from the start saw every line, in order, then the end.
    expect(await early.closed).toBe(1000);
    expect(early.messages.at(-1)).toEqual({ type: 'end', status: 'succeeded' });
    const seen = early.lines();
    expect(seen.map((line) => line.seq)).toEqual(seen.map((_, i) => i + 1));
    const texts = seen.map((line) => line.text);
    expect(texts).toContain('building v1');
    expect(texts).toContain('the secret is ***');
    const numbered = seen.filter((line) => /^line \d+$/.test(line.text));
    expect(numbered.map((line) => line.text)).toEqual(
      Array.from({ length: 50 }, (_, i) => `line ${i}`),
    );
    expect(numbered.every((line) => line.step_id === 'build')).toBe(true);
    expect(JSON.stringify(seen)).not.toContain(SECRET);
    expect(JSON.stringify(seen)).not.toContain(Buffer.from(SECRET).toString('base64'));

    // One who comes afterwards gets the same log as a replay.
    const late = await watch(buildId);
    expect(await late.closed).toBe(1000);
    expect(late.lines()).toEqual(seen);

    const log = await (
      await fetch(`${base}/api/builds/${build.id}/logs.txt`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).text();
    expect(log).toContain('the secret is ***');
    expect(log).not.toContain(SECRET);

    const artifactKey = await artifactKeyOf(stack.postgresUrl, build.id);
    expect(artifactKey).toBeTruthy();
    const archive = await readArtifact(join(stateDir, 'wrangler'), artifactKey!);
    const out = await mkdtemp(join(stateDir, 'artifact-'));
    await writeFile(join(out, 'output.tgz'), archive);
    await extract({ file: join(out, 'output.tgz'), cwd: out });
    expect(await readFile(join(out, 'index.html'), 'utf8')).toBe('<h1>e2e</h1>');
  }, 150_000);

  it('a runner killed with -9 mid-build loses the job to another runner within 30 s; its token is refused', async () => {
    // The first runner leaves cleanly: SIGTERM with nothing to finish.
    const first = runners[0]!;
    first.kill('SIGTERM');
    expect(await new Promise((resolve) => first.once('exit', resolve))).toBe(0);
    await api(
      'PUT',
      `/api/projects/${project.id}/environments/production/variables/BUILD_DELAY_MS`,
      {
        value: '120000',
        secret: false,
      },
    );
    // The runner to be killed talks through a proxy that notes its job tokens.
    const proxy = await recordingProxy(base);
    try {
      const doomed = await registerRunner('runner-doomed', proxy.url);
      const victim = startRunner(doomed.config);
      await deliver(randomUUID(), sha);
      const build = await waitFor(
        'the build to run',
        async () => (await projectBuilds()).find((b) => b.status === 'running' && b.attempt === 1),
        60_000,
      );
      expect(build.runner_id).toBe(doomed.id);
      const jobToken = await waitFor('the job token', async () => proxy.jobTokens[0], 10_000);

      const second = await registerRunner('runner-b');
      startRunner(second.config);
      const killedAt = Date.now();
      victim.kill('SIGKILL');
      const moved = await waitFor(
        'the build to move',
        async () => {
          const now = await api<Build>('GET', `/api/builds/${build.id}`);
          return (now.attempt > 1 && now.status === 'running') || now.status === 'failed'
            ? now
            : undefined;
        },
        30_000,
      );
      expect(Date.now() - killedAt).toBeLessThan(30_000);
      expect(moved).toMatchObject({ status: 'running', attempt: 2, runner_id: second.id });
      const stale = await fetch(`${base}/api/jobs/${build.id}`, {
        headers: { authorization: jobToken },
      });
      expect(stale.status).toBe(401);

      await api('POST', `/api/builds/${build.id}/cancel`);
      await waitFor(
        'the cancel',
        async () => (await api<Build>('GET', `/api/builds/${build.id}`)).status === 'canceled',
        30_000,
      );
    } finally {
      await proxy.close();
    }
  }, 150_000);
});

function post(body: unknown): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

async function artifactKeyOf(postgresUrl: string, buildId: string): Promise<string | null> {
  const proxy = await startNeonProxy({ allowedTargets: [postgresTarget(postgresUrl)] });
  const { db, pool } = createDb(postgresUrl, { wsProxy: proxy.wsProxy });
  try {
    const [row] = await db
      .select({ key: builds.artifactKey })
      .from(builds)
      .where(eq(builds.id, buildId));
    return row?.key ?? null;
  } finally {
    await pool.end();
    await proxy.close();
  }
}

/** Reads the object from the R2 state wrangler dev persists, as the deploy engine would see it. */
async function readArtifact(persistTo: string, key: string): Promise<Uint8Array> {
  // wrangler dev keeps its state under <persist-to>/v3; getPlatformProxy takes that directory.
  const proxy = await getPlatformProxy<Env>({ persist: { path: join(persistTo, 'v3') } });
  try {
    const object = await proxy.env.ARTIFACTS.get(key);
    expect(object, `R2 object ${key}`).not.toBeNull();
    return new Uint8Array(await object!.arrayBuffer());
  } finally {
    await proxy.dispose();
  }
}

/**
 * Forwards HTTP and WebSocket traffic to the platform unchanged, noting the job tokens it sees:
 * the test needs the token of a runner it is about to kill.
 */
async function recordingProxy(target: string) {
  const upstream = new URL(target);
  const jobTokens: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const auth = request.headers.authorization;
    if (request.url?.startsWith('/api/jobs/') && auth && !jobTokens.includes(auth)) {
      jobTokens.push(auth);
    }
    const forwarded = httpRequest(
      `${target}${request.url ?? '/'}`,
      { method: request.method, headers: { ...request.headers, host: upstream.host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  server.on('upgrade', (request: IncomingMessage, client: Socket, head: Buffer) => {
    const platform = connect(Number(upstream.port), upstream.hostname, () => {
      const headers = { ...request.headers, host: upstream.host };
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
      platform.write(`${request.method} ${request.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
      platform.write(head);
      client.pipe(platform).pipe(client);
    });
    for (const socket of [client, platform]) {
      sockets.add(socket);
      // A runner killed with -9 resets its connection: the platform must see it close too.
      socket.on('error', () => {
        client.destroy();
        platform.destroy();
      });
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        platform.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    jobTokens,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
