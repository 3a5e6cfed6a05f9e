import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobSpec } from '../../core/runner-protocol';
import { createMasker } from '../../core/secret-masker';
import { type HubJob, TestHub } from './test-hub';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../bin.mjs');
const SECRET = 'sup3r-s3cret-build-token';
const HOST_SECRET = 'runner-host-only-secret';

const BUILD_JS = `
const fs = require('node:fs');
const version = fs.readFileSync('version.txt', 'utf8').trim();
const secret = process.env.API_SECRET;
console.log('building version ' + version);
console.log('the secret is ' + secret);
console.log('base64: ' + Buffer.from(secret).toString('base64'));
console.log('inside base64: ' + Buffer.from('xy' + secret + 'z').toString('base64'));
console.error('env: ' + JSON.stringify({
  home: process.env.HOME,
  public: process.env.PUBLIC_NAME,
  host: process.env.RUNNER_HOST_SECRET ?? null,
  number: process.env.SPARKI_BUILD_NUMBER,
  image: process.env.SPARKI_IMAGE ?? null,
}));
for (let i = 0; i < 300; i++) console.log('line ' + i);
process.stdout.write('split: ' + secret.slice(0, 6));
setTimeout(() => {
  process.stdout.write(secret.slice(6) + ' done\\n');
  fs.mkdirSync('dist', { recursive: true });
  fs.writeFileSync('dist/index.html', '<h1>' + version + '</h1>');
  fs.mkdirSync('dist/assets', { recursive: true });
  fs.writeFileSync('dist/assets/app.js', 'console.log(1)');
  fs.symlinkSync('/etc/hostname', 'dist/leak');
}, 100);
`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

/** A repository with two commits on main: v1 (the one to build) and v2 after it. */
async function createRepository(dir: string): Promise<{ first: string; second: string }> {
  await mkdir(dir, { recursive: true });
  git(dir, 'init', '--quiet', '--initial-branch=main');
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'fixture', private: true, scripts: { build: 'node build.js' } }),
  );
  await writeFile(join(dir, 'build.js'), BUILD_JS);
  await writeFile(join(dir, 'version.txt'), 'v1\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '--quiet', '-m', 'v1');
  const first = git(dir, 'rev-parse', 'HEAD');
  await writeFile(join(dir, 'version.txt'), 'v2\n');
  git(dir, 'commit', '--quiet', '-am', 'v2');
  return { first, second: git(dir, 'rev-parse', 'HEAD') };
}

function spec(repoUrl: string, overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    build_id: randomUUID(),
    project_id: randomUUID(),
    attempt: 1,
    repo_url: repoUrl,
    commit_sha: '',
    branch: 'main',
    build_number: 7,
    image_template: null,
    root_dir: '',
    env: {
      API_SECRET: SECRET,
      PUBLIC_NAME: 'sparki-public',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    },
    secret_names: ['API_SECRET'],
    overrides: { outputDirectory: 'dist' },
    limits: { build_timeout_ms: 120_000, step_timeout_ms: 60_000 },
    traceparent: null,
    checkout_auth: null,
    ...overrides,
  };
}

/** A step that starts a child process, records both pids and then waits. */
const SLEEPER =
  'sleep 60 & echo $! > "$PID_DIR/child"; echo $$ > "$PID_DIR/shell"; echo started; wait';

async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000) {
  const start = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A zombie counts as gone: it runs nothing and only waits for its parent to reap it. */
async function alive(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return status !== '' && !/^\d+ \(.*\) Z/.test(status);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

interface Agent {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function sparki(args: string[], env: Record<string, string> = {}): Agent {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, output: () => output, exited };
}

describe('sparki runner', () => {
  const hub = new TestHub();
  let root: string;
  let repo: string;
  let commits: { first: string; second: string };
  let config: string;
  const agents: Agent[] = [];

  /** Starts `sparki runner start` and waits until it has said hello on a new connection. */
  function startAgent(...extra: string[]): Promise<Agent> {
    return startAgentWith({}, ...extra);
  }

  async function startAgentWith(env: Record<string, string>, ...extra: string[]) {
    const before = hub.connections.length;
    const agent = sparki(
      ['runner', 'start', '--config', config, '--work-dir', join(root, 'work'), ...extra],
      { RUNNER_HOST_SECRET: HOST_SECRET, ...env },
    );
    agents.push(agent);
    await waitFor(`hello\n${agent.output()}`, () =>
      hub.connections.slice(before).some((c) => c.messages.some((m) => m.type === 'hello')),
    );
    return agent;
  }

  async function runJob(job: HubJob): Promise<HubJob> {
    hub.offer(job);
    await waitFor('the result', () => job.result, 60_000);
    return job;
  }

  beforeAll(async () => {
    await hub.start();
    root = await mkdtemp(join(tmpdir(), 'sparki-runner-test-'));
    repo = join(root, 'repo');
    commits = await createRepository(repo);
    config = join(root, 'config', 'runner.json');
    const register = sparki([
      'runner',
      'register',
      '--url',
      hub.url,
      '--token',
      hub.registrationToken,
      '--name',
      'test-runner',
      '--labels',
      'linux, node',
      '--capacity',
      '2',
      '--config',
      config,
    ]);
    expect(await register.exited, register.output()).toBe(0);
  });

  afterEach(async () => {
    for (const agent of agents.splice(0)) {
      if (agent.child.exitCode === null) {
        agent.child.kill('SIGKILL');
        await agent.exited;
      }
    }
    expect(hub.violations).toEqual([]);
  });

  afterAll(async () => {
    await hub.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('registers: the runner token is saved for its owner only', async () => {
    expect(hub.registrations).toEqual([
      expect.objectContaining({ name: 'test-runner', labels: ['linux', 'node'], capacity: 2 }),
    ]);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(config, 'utf8'))).toMatchObject({
      url: hub.url,
      runner_id: hub.runnerId,
      runner_token: hub.runnerToken,
      capacity: 2,
    });
  });

  it('builds the exact commit: steps in order, masked ordered logs, output uploaded', async () => {
    await startAgent();
    hub.blobs.clear();
    const job = await runJob(
      hub.addJob(
        spec(repo, {
          commit_sha: commits.first,
          branch: 'main',
          image_template: 'registry.example.com/acme/site:{short_sha}-{build_number}',
        }),
      ),
    );

    expect(job.result).toEqual({ status: 'succeeded' });
    // Reported with its committer date, where the DORA lead time starts.
    expect(job.commit).toBe(commits.first);
    expect(job.committedAt).toBe(git(repo, 'show', '-s', '--format=%cI', commits.first));
    expect(Number.isNaN(Date.parse(job.committedAt!))).toBe(false);
    expect(job.detection).toMatchObject({
      root_dir: '',
      framework: 'node',
      package_manager: 'npm',
      install_command: 'npm install',
      build_command: 'npm run build',
      output_directory: 'dist',
    });
    // Every log batch is numbered, from 1, in the order sent.
    expect(job.batchSeqs).toEqual(job.batchSeqs.map((_, index) => index + 1));
    const finalSteps = new Map(job.steps.map((step) => [step.id, step]));
    expect([...finalSteps.values()]).toMatchObject([
      { id: 'install', position: 0, command: 'npm install', status: 'succeeded', exit_code: 0 },
      { id: 'build', position: 1, command: 'npm run build', status: 'succeeded', exit_code: 0 },
    ]);
    // The plan comes first, all pending; then each step runs only after the one before it.
    expect(job.steps.slice(0, 2).map((step) => step.status)).toEqual(['pending', 'pending']);
    expect(job.steps.slice(2).map((step) => `${step.id}:${step.status}`)).toEqual([
      'install:running',
      'install:succeeded',
      'build:running',
      'build:succeeded',
    ]);

    const texts = job.logs.map((line) => line.text);
    expect(texts).toContain(`Checked out ${commits.first}`);
    expect(texts).toContain('building version v1');
    const numbered = job.logs.filter((line) => /^line \d+$/.test(line.text));
    expect(numbered.map((line) => line.text)).toEqual(
      Array.from({ length: 300 }, (_, i) => `line ${i}`),
    );
    expect(numbered.every((line) => line.step_id === 'build' && line.stream === 'stdout')).toBe(
      true,
    );
    const timestamps = job.logs.map((line) => line.ts);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
    const firstBuildLine = job.logs.findIndex((line) => line.step_id === 'build');
    expect(job.logs.slice(firstBuildLine).some((line) => line.step_id === 'install')).toBe(false);

    expect(texts).toContain('the secret is ***');
    expect(texts).toContain('split: *** done');
    const everything = JSON.stringify(job.logs);
    // No form of the value is left for the masker to find.
    expect(createMasker([SECRET])(everything)).toBe(everything);
    expect(everything).not.toContain(Buffer.from(SECRET).toString('base64'));

    const envLine = job.logs.find((line) => line.text.startsWith('env: '))!;
    expect(envLine.stream).toBe('stderr');
    const env = JSON.parse(envLine.text.slice(5));
    expect(env).toMatchObject({
      public: 'sparki-public',
      host: null,
      number: '7',
      image: `registry.example.com/acme/site:${commits.first.slice(0, 7)}-7`,
    });
    expect(env.home).toContain(join(root, 'work'));
    expect(everything).not.toContain(HOST_SECRET);
    expect(everything).not.toContain(hub.runnerToken);

    expect(Object.fromEntries([...job.output!].map(([path, data]) => [path, `${data}`]))).toEqual({
      'assets/app.js': 'console.log(1)',
      'index.html': '<h1>v1</h1>',
    });
    expect(texts).toContain('Skipping leak: symbolic links are not published');
    expect(texts).toContain('2 files; 2 new (25 B) to upload, the rest already stored');
    expect(job.uploads).toHaveLength(2);
  });

  it('uploads only the blobs the platform lacks: the same output again sends none', async () => {
    await startAgent();
    const first = await runJob(hub.addJob(spec(repo, { commit_sha: commits.first })));
    const again = await runJob(hub.addJob(spec(repo, { commit_sha: commits.first })));
    expect(again.result).toEqual({ status: 'succeeded' });
    expect(again.uploads).toEqual([]);
    expect([...again.output!.keys()]).toEqual([...first.output!.keys()]);
    expect(again.logs.map((line) => line.text)).toContain(
      '2 files; 0 new (0 B) to upload, the rest already stored',
    );
  });

  it("keeps a project's dependency cache between its builds", async () => {
    await startAgent();
    const projectId = randomUUID();
    const probe = [
      'echo "cache=$npm_config_cache"',
      'test -f "$npm_config_cache/probe" && echo "probe found"',
      'touch "$npm_config_cache/probe"',
    ].join('; ');
    const build = async () => {
      const job = hub.addJob(
        spec(repo, {
          project_id: projectId,
          commit_sha: commits.first,
          overrides: { installCommand: probe, outputDirectory: 'dist' },
        }),
      );
      return (await runJob(job)).logs.map((line) => line.text);
    };
    const dir = join(root, 'work', 'cache', projectId, 'npm', 'data');

    const first = await build();
    expect(first).toContain('cache: npm miss');
    expect(first).toContain(`cache=${dir}`);
    expect(first).not.toContain('probe found');
    const second = await build();
    expect(second).toContainEqual(expect.stringMatching(/^cache: npm hit \(\d+ B\)$/));
    expect(second).toContain(`cache=${dir}`);
    expect(second).toContain('probe found');
  });

  it("restores npm's installed tree for the next build of the same lock file", async () => {
    await startAgent();
    // A project whose one dependency is a local tarball: npm ci without the registry.
    const npmRepo = join(root, 'npm-repo');
    const dep = join(root, 'npm-dep');
    await mkdir(dep, { recursive: true });
    await writeFile(join(dep, 'package.json'), JSON.stringify({ name: 'dep', version: '1.0.0' }));
    await writeFile(join(dep, 'index.js'), "module.exports = 'from dep';\n");
    await mkdir(npmRepo, { recursive: true });
    execFileSync('npm', ['pack', '--pack-destination', npmRepo, dep]);
    await writeFile(
      join(npmRepo, 'package.json'),
      JSON.stringify({
        name: 'npm-fixture',
        private: true,
        dependencies: { dep: 'file:dep-1.0.0.tgz' },
        scripts: {
          build: `node -e "require('fs').mkdirSync('dist');require('fs').writeFileSync('dist/index.html', require('dep'))"`,
        },
      }),
    );
    execFileSync('npm', ['install', '--package-lock-only'], { cwd: npmRepo });
    git(npmRepo, 'init', '--quiet', '--initial-branch=main');
    git(npmRepo, 'add', '.');
    git(npmRepo, 'commit', '--quiet', '-m', 'app');
    const projectId = randomUUID();
    const build = async () => {
      const job = await runJob(hub.addJob(spec(npmRepo, { project_id: projectId })));
      expect(job.result).toEqual({ status: 'succeeded' });
      expect(`${job.output!.get('index.html')}`).toBe('from dep');
      return job.logs.map((line) => line.text);
    };

    const first = await build();
    expect(first).toContain('$ npm ci');
    expect(first).toContainEqual(
      expect.stringMatching(/^cache: npm node_modules kept for the next build/),
    );
    const second = await build();
    expect(second).toContainEqual(expect.stringMatching(/^cache: npm node_modules restored/));
    expect(second).toContain('$ npm install --no-save');
    expect(second).not.toContain('$ npm ci');
  });

  it("passes the host's CA and proxy variables and the listed ones, proxy credentials masked", async () => {
    await startAgentWith(
      {
        https_proxy: 'http://ci:pr0xy-s3cret@proxy.invalid:3128',
        SSL_CERT_FILE: '/etc/ssl/corp.pem',
        ARTIFACT_MIRROR: 'https://mirror.invalid',
        UNLISTED: 'not-for-builds',
      },
      '--pass-env',
      'ARTIFACT_MIRROR',
    );
    const job = await runJob(
      hub.addJob(
        spec(repo, {
          overrides: {
            installCommand: null,
            buildCommand:
              'echo "seen: $https_proxy $SSL_CERT_FILE $ARTIFACT_MIRROR [$UNLISTED$RUNNER_HOST_SECRET]"',
            outputDirectory: null,
          },
        }),
      ),
    );
    expect(job.result).toEqual({ status: 'succeeded' });
    const texts = job.logs.map((line) => line.text);
    expect(texts).toContain(
      'seen: http://ci:***@proxy.invalid:3128 /etc/ssl/corp.pem https://mirror.invalid []',
    );
    expect(JSON.stringify(job.logs)).not.toContain('pr0xy-s3cret');
  });

  it('resolves the branch when the job names no commit', async () => {
    await startAgent();
    const job = await runJob(
      hub.addJob(
        spec(repo, {
          commit_sha: null,
          overrides: { installCommand: null, outputDirectory: 'dist' },
        }),
      ),
    );
    expect(job.result).toEqual({ status: 'succeeded' });
    expect(job.logs.map((line) => line.text)).toContain(`Checked out ${commits.second}`);
    // The platform learns the commit it could not name, for statuses and deployments.
    expect(job.commit).toBe(commits.second);
    expect(job.steps.map((step) => step.id)).not.toContain('install');
  });

  it('fails the build when the commit does not exist, with the reason', async () => {
    await startAgent();
    const job = await runJob(hub.addJob(spec(repo, { commit_sha: 'f'.repeat(40) })));
    expect(job.result?.status).toBe('failed');
    expect(job.result?.error).toMatch(/not in the repository|git fetch/);
  });

  it('cancel kills the whole process group of the running step', async () => {
    const pids = await mkdtemp(join(root, 'pids-'));
    await startAgent();
    const job = hub.addJob(
      spec(repo, {
        env: { PID_DIR: pids },
        overrides: { installCommand: null, buildCommand: SLEEPER },
      }),
    );
    hub.offer(job);
    await waitFor('the step to start', () => job.logs.some((line) => line.text === 'started'));
    const [shell, child] = await Promise.all(
      ['shell', 'child'].map(async (name) => Number(await readFile(join(pids, name), 'utf8'))),
    );
    expect(await alive(child!)).toBe(true);
    // Heartbeats carry the running build.
    await waitFor('a heartbeat', () =>
      hub.current!.messages.some(
        (m) => m.type === 'heartbeat' && m.running.includes(job.spec.build_id),
      ),
    );

    hub.send({ type: 'cancel', build_id: job.spec.build_id, reason: 'canceled by a test' });
    await waitFor('the result', () => job.result);
    expect(job.result).toEqual({ status: 'canceled', error: 'canceled by a test' });
    expect(job.steps.at(-1)).toMatchObject({ id: 'build', status: 'canceled' });
    expect(await alive(shell!)).toBe(false);
    expect(await alive(child!)).toBe(false);
  });

  it('on SIGTERM, finishes a build within the grace period', async () => {
    const agent = await startAgent('--drain-grace', '20');
    const job = hub.addJob(
      spec(repo, {
        overrides: { installCommand: null, buildCommand: 'sleep 1; echo finished' },
      }),
    );
    hub.offer(job);
    await waitFor('the step to start', () => job.steps.some((step) => step.status === 'running'));
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(job.result).toEqual({ status: 'succeeded' });
    expect(hub.messages.filter((m) => m.type === 'release')).toEqual([]);
  });

  it('on SIGTERM, hands back a build that outlasts the grace period and exits 0', async () => {
    const pids = await mkdtemp(join(root, 'pids-'));
    const agent = await startAgent('--drain-grace', '1');
    const job = hub.addJob(
      spec(repo, {
        attempt: 2,
        env: { PID_DIR: pids },
        overrides: { installCommand: null, buildCommand: SLEEPER },
      }),
    );
    hub.offer(job);
    await waitFor('the step to start', () => job.logs.some((line) => line.text === 'started'));
    const child = Number(await readFile(join(pids, 'child'), 'utf8'));
    const connection = hub.current!;
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(connection.messages.filter((m) => m.type === 'release')).toEqual([
      { type: 'release', build_id: job.spec.build_id, attempt: 2, reason: expect.any(String) },
    ]);
    expect(job.result).toBeUndefined();
    expect(await alive(child)).toBe(false);
  });

  it('when the agent is killed with SIGKILL, its running step dies with it', async () => {
    const pids = await mkdtemp(join(root, 'pids-'));
    const agent = await startAgent();
    const job = hub.addJob(
      spec(repo, {
        env: { PID_DIR: pids },
        overrides: {
          installCommand: null,
          // The child ignores SIGTERM and SIGHUP: only SIGKILL ends it.
          buildCommand: SLEEPER.replace('sleep 60 &', `sh -c 'trap "" TERM HUP; sleep 300' &`),
        },
      }),
    );
    hub.offer(job);
    await waitFor('the step to start', () => job.logs.some((line) => line.text === 'started'));
    const steps = await Promise.all(
      ['shell', 'child'].map(async (name) => Number(await readFile(join(pids, name), 'utf8'))),
    );
    try {
      expect(await alive(steps[1]!)).toBe(true);
      agent.child.kill('SIGKILL');
      await agent.exited;
      // Nothing in the agent runs after SIGKILL: whatever ends the step is outside it.
      const deadline = Date.now() + 20_000;
      while ((await Promise.all(steps.map(alive))).some(Boolean)) {
        if (Date.now() > deadline) throw new Error('the step outlived its agent');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      // Without the guarantee, the whole group would be left running.
      killGroup(steps[0]!);
    }
  });

  it('reconnects with growing, jittered delays and says which builds it still runs', async () => {
    const pids = await mkdtemp(join(root, 'pids-'));
    await startAgent();
    const job = hub.addJob(
      spec(repo, {
        env: { PID_DIR: pids },
        overrides: { installCommand: null, buildCommand: SLEEPER },
      }),
    );
    hub.offer(job);
    await waitFor('the step to start', () => job.logs.some((line) => line.text === 'started'));

    const connections = hub.connections.length;
    const attempts = hub.attempts.length;
    hub.refuseNext = 3;
    const dropped = Date.now();
    hub.dropConnection();
    const back = await waitFor('a new connection', () => hub.connections[connections], 15_000);
    await waitFor('hello', () => back.messages.find((m) => m.type === 'hello'));
    expect(back.messages[0]).toEqual({ type: 'hello', version: 1, running: [job.spec.build_id] });

    const times = [dropped, ...hub.attempts.slice(attempts)];
    expect(times).toHaveLength(5);
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    // Delays come from [250, 500], [500, 1000], [1000, 2000], [2000, 4000] ms.
    for (const [i, gap] of gaps.entries()) {
      expect(gap).toBeGreaterThanOrEqual(250 * 2 ** i - 50);
      expect(gap).toBeLessThanOrEqual(500 * 2 ** i + 1_000);
    }

    // The build went on meanwhile, and the new connection can still cancel it.
    hub.send({ type: 'cancel', build_id: job.spec.build_id, reason: 'done testing' });
    await waitFor('the result', () => job.result);
    expect(job.result?.status).toBe('canceled');
  }, 40_000);

  it('stops with an error when the platform refuses its token', async () => {
    const bad = join(root, 'bad.json');
    const saved = JSON.parse(await readFile(config, 'utf8'));
    await writeFile(bad, JSON.stringify({ ...saved, runner_token: 'spk_rnr_revoked' }));
    const agent = sparki(['runner', 'start', '--config', bad, '--work-dir', join(root, 'work')]);
    agents.push(agent);
    expect(await agent.exited).toBe(1);
    expect(agent.output()).toContain('refused the runner token (HTTP 401)');
  });
});
