import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ManifestSchema } from '../../core/hosting/manifest';
import { type ViewerMessage, ViewerMessageSchema } from '../../core/log-stream';
import { builds } from '../../db/schema';
import { openBlob } from '../../domain/hosting/blob-store';
import { type Build, type E2E, git, startE2E, withBindings, withDb } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * Push to build with nothing faked: the dev stack, a real git repository, signed GitHub
 * deliveries and `sparki runner` as real processes (see e2e-helpers.ts).
 */
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
  fs.writeFileSync('dist/app.css', 'h1 { color: teal }');
}, Number(process.env.BUILD_DELAY_MS || 0));
`;

describe('push to build, end to end', () => {
  let e2e: E2E;
  let sha: string;

  beforeAll(async () => {
    e2e = await startE2E({
      'package.json': JSON.stringify({
        name: 'e2e',
        private: true,
        scripts: { build: 'node build.js' },
      }),
      'build.js': BUILD_JS,
      'version.txt': 'v1\n',
    });
    sha = git(e2e.repo, 'rev-parse', 'HEAD');
    await e2e.api(
      'PUT',
      `/api/projects/${e2e.project.id}/environments/production/variables/API_SECRET`,
      { value: SECRET, secret: true },
    );
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (e2e) await e2e.stop();
  });

  /** A log viewer over the live WebSocket, as the dashboard opens it. */
  async function watch(buildId: string) {
    const { ticket } = await e2e.api<{ ticket: string }>('POST', '/api/ws-tickets', {
      purpose: 'build-logs',
      resource_id: buildId,
    });
    const socket = new WebSocket(
      `${e2e.base.replace('http', 'ws')}/api/builds/${buildId}/logs/live`,
      ['sparki.v1', `ticket.${ticket}`],
    );
    const messages: ViewerMessage[] = [];
    socket.on('message', (data) => messages.push(ViewerMessageSchema.parse(JSON.parse(`${data}`))));
    const closed = new Promise<number>((resolve) => socket.on('close', resolve));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const lines = () => messages.flatMap((m) => (m.type === 'lines' ? m.lines : []));
    return { messages, lines, closed };
  }

  it('one signed push delivered three times: one build, run by a real runner, watched live, output in R2', async () => {
    const runner = await e2e.registerRunner('runner-a');
    const deliveryId = randomUUID();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await e2e.deliver(deliveryId, sha));
    expect(answers.map((answer) => answer.body.status)).toEqual([
      'queued',
      'duplicate',
      'duplicate',
    ]);
    const buildId = answers[0]!.body.build_id!;
    const early = await watch(buildId);
    await e2e.waitFor(
      'the replay',
      async () => early.messages.some((m) => m.type === 'caught_up'),
      10_000,
    );
    e2e.startRunner(runner.config);

    const build = await e2e.waitFor(
      'the build to succeed',
      async () => {
        const [only, ...others] = await e2e.projectBuilds();
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
      await fetch(`${e2e.base}/api/builds/${build.id}/logs.txt`, {
        headers: { authorization: `Bearer ${e2e.token()}` },
      })
    ).text();
    expect(log).toContain('the secret is ***');
    expect(log).not.toContain(SECRET);

    // The output went up content-addressed: a manifest whose blobs the edge host serves from.
    const manifestKey = await outputManifestKeyOf(e2e.stack.postgresUrl, build.id);
    expect(manifestKey).toBeTruthy();
    const index = await readOutputFile(e2e.stateDir, manifestKey!, '/index.html');
    expect(new TextDecoder().decode(index)).toBe('<h1>e2e</h1>');
    // Both files went up in one batch request (cli/runner/output-upload.ts).
    const css = await readOutputFile(e2e.stateDir, manifestKey!, '/app.css');
    expect(new TextDecoder().decode(css)).toBe('h1 { color: teal }');
  }, 150_000);

  it('a runner killed with -9 mid-build loses the job to another runner within 30 s; its token is refused', async () => {
    // The first runner leaves cleanly: SIGTERM with nothing to finish.
    const first = e2e.runners[0]!;
    first.kill('SIGTERM');
    expect(await new Promise((resolve) => first.once('exit', resolve))).toBe(0);
    await e2e.api(
      'PUT',
      `/api/projects/${e2e.project.id}/environments/production/variables/BUILD_DELAY_MS`,
      {
        value: '120000',
        secret: false,
      },
    );
    // The runner to be killed talks through a proxy that notes its job tokens.
    const proxy = await recordingProxy(e2e.base);
    try {
      const doomed = await e2e.registerRunner('runner-doomed', proxy.url);
      const victim = e2e.startRunner(doomed.config);
      await e2e.deliver(randomUUID(), sha);
      const build = await e2e.waitFor(
        'the build to run',
        async () =>
          (await e2e.projectBuilds()).find((b) => b.status === 'running' && b.attempt === 1),
        60_000,
      );
      expect(build.runner_id).toBe(doomed.id);
      const jobToken = await e2e.waitFor('the job token', async () => proxy.jobTokens[0], 10_000);

      const second = await e2e.registerRunner('runner-b');
      e2e.startRunner(second.config);
      const killedAt = Date.now();
      victim.kill('SIGKILL');
      const moved = await e2e.waitFor(
        'the build to move',
        async () => {
          const now = await e2e.api<Build>('GET', `/api/builds/${build.id}`);
          return (now.attempt > 1 && now.status === 'running') || now.status === 'failed'
            ? now
            : undefined;
        },
        30_000,
      );
      expect(Date.now() - killedAt).toBeLessThan(30_000);
      expect(moved).toMatchObject({ status: 'running', attempt: 2, runner_id: second.id });
      const stale = await fetch(`${e2e.base}/api/jobs/${build.id}`, {
        headers: { authorization: jobToken },
      });
      expect(stale.status).toBe(401);

      await e2e.api('POST', `/api/builds/${build.id}/cancel`);
      await e2e.waitFor(
        'the cancel',
        async () => (await e2e.api<Build>('GET', `/api/builds/${build.id}`)).status === 'canceled',
        30_000,
      );
    } finally {
      await proxy.close();
    }
  }, 150_000);
});

async function outputManifestKeyOf(postgresUrl: string, buildId: string) {
  const [row] = await withDb(postgresUrl, (db) =>
    db.select({ key: builds.outputManifestKey }).from(builds).where(eq(builds.id, buildId)),
  );
  return row?.key ?? null;
}

/** Reads a small output file from the R2 state wrangler dev persists, as the engine does. */
function readOutputFile(stateDir: string, manifestKey: string, path: string) {
  return withBindings(stateDir, async (env) => {
    const manifest = ManifestSchema.parse(await (await env.SITES.get(manifestKey))?.json());
    const file = manifest.files[path];
    expect(file, `${path} in ${manifestKey}`).toBeDefined();
    // The runner sends small files in batches, which the platform keeps as packs.
    expect(file!.packed, `${path} in a pack`).toBeDefined();
    const blob = await openBlob(env.SITES as unknown as R2Bucket, manifest, file!);
    return new Uint8Array(await new Response(blob).arrayBuffer());
  });
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
