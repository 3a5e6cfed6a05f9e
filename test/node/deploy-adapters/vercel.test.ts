import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../../domain/deployments/adapters';
import { vercel } from '../../../domain/deployments/adapters/vercel';
import {
  type FakeProvider,
  HTML_BAD_GATEWAY,
  memoryArtifact,
  type Reply,
  startFakeProvider,
} from './fake-provider';

const TOKEN = 'vercel-token-1';
const TEAM = 'team_1a2b3c';
const PROJECT = 'prj_shop';

interface Deployment {
  id: string;
  url: string;
  readyState: string;
  target: string | null;
}

let provider: FakeProvider;
let blobs: Map<string, Buffer>;
let deployments: Deployment[];
let outage: Reply | undefined;

const error = (status: number, code: string, message: string, extra = {}): Reply => ({
  status,
  json: { error: { code, message, ...extra } },
});
const sha1 = (bytes: Buffer | string) => createHash('sha1').update(bytes).digest('hex');

beforeAll(async () => {
  provider = await startFakeProvider((request) => {
    if (outage) return outage;
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      return error(403, 'forbidden', 'Not authorized', { invalidToken: true });
    }
    if (request.query.get('teamId') !== TEAM) {
      return error(403, 'forbidden', "You don't have permission to access this team");
    }
    if (request.method === 'POST' && request.path === '/v2/files') {
      const digest = String(request.headers['x-vercel-digest']);
      if (sha1(request.body) !== digest) {
        return error(400, 'incorrect_file_sha', 'The file SHA does not match the body');
      }
      blobs.set(digest, request.body);
      return { status: 200, json: {} };
    }
    if (request.method === 'POST' && request.path === '/v13/deployments') {
      const body = request.json as {
        name?: string;
        project?: string;
        target?: string;
        files?: { file: string; sha: string; size: number }[];
      };
      if (!body.name || body.project !== PROJECT || !Array.isArray(body.files)) {
        return error(400, 'bad_request', 'Invalid request: should have required property name');
      }
      const missing = body.files.filter((file) => !blobs.has(file.sha)).map((file) => file.sha);
      if (missing.length > 0) return error(400, 'missing_files', 'Missing files', { missing });
      const deployment: Deployment = {
        id: `dpl_${deployments.length + 1}`,
        url: `shop-${deployments.length + 1}-acme.vercel.app`,
        readyState: 'QUEUED',
        target: body.target ?? null,
      };
      deployments.push(deployment);
      return { status: 200, json: deployment };
    }
    const single = /^\/v13\/deployments\/([^/]+)$/.exec(request.path);
    if (request.method === 'GET' && single) {
      const found = deployments.find((deployment) => deployment.id === single[1]);
      return found ? { status: 200, json: found } : error(404, 'not_found', 'Deployment not found');
    }
    const switchTo =
      /^\/(v10\/projects\/([^/]+)\/promote|v1\/projects\/([^/]+)\/rollback)\/([^/]+)$/.exec(
        request.path,
      );
    if (request.method === 'POST' && switchTo) {
      if ((switchTo[2] ?? switchTo[3]) !== PROJECT)
        return error(404, 'not_found', 'Project not found');
      const found = deployments.find((deployment) => deployment.id === switchTo[4]);
      if (!found) return error(404, 'not_found', 'Deployment not found');
      if (found.readyState !== 'READY') {
        return error(409, 'deployment_not_ready', 'The deployment is not ready');
      }
      for (const deployment of deployments) deployment.target = null;
      found.target = 'production';
      return { status: switchTo[2] ? 202 : 201, json: {} };
    }
    return error(404, 'not_found', 'The requested resource could not be found');
  });
});

afterAll(() => provider.close());

beforeEach(() => {
  blobs = new Map();
  deployments = [];
  outage = undefined;
  provider.received.length = 0;
});

const target = (credentials: unknown = { token: TOKEN }) => ({
  config: { projectId: PROJECT, projectName: 'shop', teamId: TEAM, apiBase: provider.base },
  credentials,
  fetch: provider.fetch,
});
const FILES = { 'index.html': '<h1>shop</h1>', 'assets/app.js': 'console.log(1)' };
const request = (
  strategy: 'all_at_once' | 'blue_green',
  stage: 'production' | 'preview' = 'production',
) => ({
  deploymentId: `dep_${strategy}`,
  environment: stage,
  stage,
  strategy,
  artifact: memoryArtifact(FILES),
});

describe('Vercel adapter', () => {
  it('uploads only the files Vercel reports missing, then creates the production deployment', async () => {
    const ref = await vercel.deploy(target(), request('all_at_once'));

    const calls = provider.received.map((entry) => `${entry.method} ${entry.path}`);
    expect(calls).toEqual([
      'POST /v13/deployments',
      'POST /v2/files',
      'POST /v2/files',
      'POST /v13/deployments',
    ]);
    const [create, upload] = provider.received;
    expect(create!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(create!.query.get('teamId')).toBe(TEAM);
    expect(create!.json).toEqual({
      name: 'shop',
      project: PROJECT,
      target: 'production',
      files: [
        { file: 'index.html', sha: sha1(FILES['index.html']), size: 13 },
        { file: 'assets/app.js', sha: sha1(FILES['assets/app.js']), size: 14 },
      ],
      meta: { sparkiDeploymentId: 'dep_all_at_once', sparkiBuildId: 'bld_1' },
    });
    expect(upload!.headers['x-vercel-digest']).toBe(sha1(FILES['index.html']));
    expect(upload!.headers['content-type']).toBe('application/octet-stream');
    expect(ref).toEqual({ id: 'dpl_1', url: 'https://shop-1-acme.vercel.app' });

    provider.received.length = 0;
    await vercel.deploy(target(), request('all_at_once'));
    expect(provider.received.map((entry) => entry.path)).toEqual(['/v13/deployments']);
  });

  it('maps readyState, and tells a ready preview from a live production deployment', async () => {
    const ref = await vercel.deploy(target(), request('all_at_once', 'preview'));
    expect(provider.received.at(-1)!.json).not.toHaveProperty('target');
    for (const [readyState, state] of [
      ['QUEUED', 'in_progress'],
      ['BUILDING', 'in_progress'],
      ['READY', 'ready'],
      ['ERROR', 'failed'],
      ['CANCELED', 'canceled'],
    ] as const) {
      deployments[0]!.readyState = readyState;
      expect(await vercel.status(target(), ref)).toMatchObject({ state, detail: readyState });
    }
    expect(provider.received.at(-1)).toMatchObject({
      method: 'GET',
      path: '/v13/deployments/dpl_1',
    });
  });

  it('runs blue-green as a preview promoted by the documented endpoint, and rolls back', async () => {
    const blue = await vercel.deploy(target(), request('all_at_once'));
    deployments[0]!.readyState = 'READY';
    const green = await vercel.deploy(target(), request('blue_green'));
    expect(provider.received.at(-1)!.json).not.toHaveProperty('target');
    deployments[1]!.readyState = 'READY';
    expect(await vercel.status(target(), green)).toMatchObject({ state: 'ready' });

    await vercel.promote(target(), green);
    expect(provider.received.at(-1)).toMatchObject({
      method: 'POST',
      path: `/v10/projects/${PROJECT}/promote/dpl_2`,
    });
    expect(await vercel.status(target(), green)).toMatchObject({ state: 'live' });

    expect(await vercel.rollback(target(), blue)).toEqual(blue);
    const rollback = provider.received.at(-1)!;
    expect(rollback.path).toBe(`/v1/projects/${PROJECT}/rollback/dpl_1`);
    expect(rollback.query.get('description')).toBe('Sparki rollback');
    expect(await vercel.status(target(), blue)).toMatchObject({ state: 'live' });
    expect(await vercel.status(target(), green)).toMatchObject({ state: 'ready' });
  });

  it('surfaces the documented error bodies (403, 404, 409)', async () => {
    await expect(
      vercel.deploy(target({ token: 'nope' }), request('all_at_once')),
    ).rejects.toMatchObject({
      status: 403,
      kind: 'unauthorized',
      code: 'forbidden',
      message: expect.stringContaining('Not authorized'),
    });
    await expect(vercel.status(target(), { id: 'dpl_404' })).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    const queued = await vercel.deploy(target(), request('blue_green'));
    await expect(vercel.promote(target(), queued)).rejects.toMatchObject({
      status: 409,
      kind: 'conflict',
      code: 'deployment_not_ready',
    });
  });

  it('reads X-RateLimit-Reset (epoch seconds) on a 429 and reports non-JSON failures', async () => {
    const reset = Math.floor(Date.now() / 1000) + 90;
    outage = {
      ...error(429, 'rate_limited', 'The rate limit of 100 exceeded', {
        limit: { remaining: 0, reset, resetMs: reset * 1000, total: 100 },
      }),
      headers: {
        'x-ratelimit-limit': '100',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(reset),
      },
    };
    const limited = await vercel
      .status(target(), { id: 'dpl_1' })
      .catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(RateLimitedError);
    const { retryAfterMs, retryAt } = limited as RateLimitedError;
    expect(retryAfterMs).toBeGreaterThan(85_000);
    expect(retryAfterMs).toBeLessThanOrEqual(90_000);
    expect(Math.round(retryAt.getTime() / 1000)).toBeGreaterThanOrEqual(reset - 1);

    outage = HTML_BAD_GATEWAY;
    await expect(vercel.status(target(), { id: 'dpl_1' })).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining('non-JSON answer'),
    });
  });

  it('refuses canary (no such strategy here) and an empty build', async () => {
    expect(
      vercel.validate(target().config, { token: TOKEN }, { buildId: 'b', files: [] }, 'canary'),
    ).toEqual([
      {
        field: 'strategy',
        message: 'Vercel does not support canary (supported: all_at_once, blue_green)',
      },
      { field: 'artifact.files', message: 'Vercel deploys files; the build produced none' },
    ]);
    await expect(vercel.promote(target(), { id: 'dpl_1' }, 20)).rejects.toMatchObject({
      problems: [{ field: 'strategy' }],
    });
  });
});
