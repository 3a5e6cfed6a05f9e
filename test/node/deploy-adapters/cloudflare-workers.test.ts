import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AdapterValidationError,
  ProviderError,
  RateLimitedError,
} from '../../../domain/deployments/adapters';
import { cloudflareWorkers } from '../../../domain/deployments/adapters/cloudflare-workers';
import {
  type FakeProvider,
  HTML_BAD_GATEWAY,
  memoryArtifact,
  type Received,
  type Reply,
  startFakeProvider,
} from './fake-provider';

const ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353';
const SCRIPT = 'shop-api';
const TOKEN = 'cf-token-0123456789abcdefghij';
const SCRIPT_PATH = `/client/v4/accounts/${ACCOUNT}/workers/scripts/${SCRIPT}`;

interface Deployment {
  id: string;
  strategy: string;
  versions: { version_id: string; percentage: number }[];
  annotations?: Record<string, string>;
}

let provider: FakeProvider;
let deployments: Deployment[];
let versions: Set<string>;
let uploads: { metadata: Record<string, unknown>; parts: Record<string, string> }[];
let outage: Reply | undefined;

const failure = (status: number, code: number, message: string): Reply => ({
  status,
  json: { success: false, errors: [{ code, message }], messages: [], result: null },
});
const ok = (result: unknown): Reply => ({
  status: 200,
  json: { success: true, errors: [], messages: [], result },
});

/** The documented multipart body: a JSON `metadata` part and one part per module. */
async function readUpload(request: Received) {
  const form = await new Response(request.body, {
    headers: { 'content-type': String(request.headers['content-type']) },
  }).formData();
  const metadata = JSON.parse(await (form.get('metadata') as Blob).text());
  const parts: Record<string, string> = {};
  for (const [name, value] of form) {
    if (name !== 'metadata' && value instanceof Blob)
      parts[name] = `${value.type}:${await value.text()}`;
  }
  if (typeof metadata.main_module !== 'string' || !parts[metadata.main_module]) return undefined;
  return { metadata, parts };
}

beforeAll(async () => {
  provider = await startFakeProvider(async (request) => {
    if (outage) return outage;
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      return failure(403, 10000, 'Authentication error');
    }
    if (!request.path.startsWith(SCRIPT_PATH)) {
      return failure(404, 10007, 'workers.api.error.script_not_found');
    }
    const rest = request.path.slice(SCRIPT_PATH.length);
    if (rest === '' && request.method === 'PUT') {
      const upload = await readUpload(request);
      if (!upload) return failure(400, 10021, 'could not read content for part metadata');
      uploads.push(upload);
      const version = randomUUID();
      versions.add(version);
      deployments.unshift({
        id: randomUUID(),
        strategy: 'percentage',
        versions: [{ version_id: version, percentage: 100 }],
      });
      return ok({ id: SCRIPT, etag: 'etag-1', handlers: ['fetch'], has_modules: true });
    }
    if (rest === '/versions' && request.method === 'POST') {
      const upload = await readUpload(request);
      if (!upload) return failure(400, 10021, 'could not read content for part metadata');
      uploads.push(upload);
      const version = randomUUID();
      versions.add(version);
      return ok({ id: version, number: versions.size, metadata: { source: 'api' }, resources: {} });
    }
    if (rest === '/deployments' && request.method === 'GET') return ok({ deployments });
    if (rest === '/deployments' && request.method === 'POST') {
      const body = request.json as Deployment;
      const total = body.versions.reduce((sum, version) => sum + version.percentage, 0);
      if (
        body.strategy !== 'percentage' ||
        total !== 100 ||
        body.versions.some((version) => !versions.has(version.version_id))
      ) {
        return failure(400, 10204, 'deployment versions must exist and add up to 100%');
      }
      const deployment = { ...body, id: randomUUID() };
      deployments.unshift(deployment);
      return ok(deployment);
    }
    return failure(405, 10405, 'method not allowed');
  });
});

afterAll(() => provider.close());

beforeEach(() => {
  deployments = [];
  versions = new Set();
  uploads = [];
  outage = undefined;
  provider.received.length = 0;
});

const config = () => ({
  accountId: ACCOUNT,
  scriptName: SCRIPT,
  compatibilityDate: '2026-11-01',
  publicUrl: 'https://shop-api.example.workers.dev',
  apiBase: `${provider.base}/client/v4`,
});
const target = (overrides: { credentials?: unknown } = {}) => ({
  config: config(),
  credentials: overrides.credentials ?? { apiToken: TOKEN },
  fetch: provider.fetch,
});
const artifact = (body = 'export default { fetch() { return new Response("v1") } }') =>
  memoryArtifact({ 'worker.js': body, 'data.txt': 'hello' });
const request = (
  strategy: 'all_at_once' | 'blue_green' | 'canary',
  extra: { canaryPercent?: number; body?: string } = {},
) => ({
  deploymentId: `dep_${strategy}`,
  environment: 'production',
  stage: 'production' as const,
  strategy,
  canaryPercent: extra.canaryPercent,
  artifact: artifact(extra.body),
});

describe('Cloudflare Workers adapter', () => {
  it('uploads the script as documented multipart and reports the version it deployed', async () => {
    const ref = await cloudflareWorkers.deploy(target(), request('all_at_once'));

    const put = provider.received[0]!;
    expect(put.method).toBe('PUT');
    expect(put.path).toBe(SCRIPT_PATH);
    expect(put.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(uploads[0]!.metadata).toMatchObject({
      main_module: 'worker.js',
      compatibility_date: '2026-11-01',
      compatibility_flags: [],
      bindings: [],
    });
    expect(uploads[0]!.parts['worker.js']).toMatch(
      /^application\/javascript\+module:export default/,
    );
    expect(uploads[0]!.parts['data.txt']).toBe('text/plain:hello');
    expect(ref).toEqual({
      id: deployments[0]!.versions[0]!.version_id,
      url: 'https://shop-api.example.workers.dev',
    });
    expect(await cloudflareWorkers.status(target(), ref)).toMatchObject({
      state: 'live',
      trafficPercent: 100,
    });
  });

  it('runs a canary as a version plus a percentage deployment, raises it, then rolls back', async () => {
    const first = await cloudflareWorkers.deploy(target(), request('all_at_once'));
    const canary = await cloudflareWorkers.deploy(
      target(),
      request('canary', { canaryPercent: 20, body: 'export default {}' }),
    );

    const upload = provider.received.find((entry) => entry.path.endsWith('/versions'))!;
    expect(upload.method).toBe('POST');
    expect(uploads[1]!.metadata.annotations).toEqual({
      'workers/message': 'Sparki deployment dep_canary',
      'workers/tag': 'bld_1',
    });
    expect(deployments[0]!.versions).toEqual([
      { version_id: canary.id, percentage: 20 },
      { version_id: first.id, percentage: 80 },
    ]);
    expect(await cloudflareWorkers.status(target(), canary)).toMatchObject({
      state: 'live',
      trafficPercent: 20,
    });

    await cloudflareWorkers.promote(target(), canary, 50);
    expect(deployments[0]!.versions).toEqual([
      { version_id: canary.id, percentage: 50 },
      { version_id: first.id, percentage: 50 },
    ]);
    await cloudflareWorkers.promote(target(), canary);
    expect(deployments[0]!.versions).toEqual([{ version_id: canary.id, percentage: 100 }]);

    const back = await cloudflareWorkers.rollback(target(), first);
    expect(back.id).toBe(first.id);
    expect(deployments[0]!.versions).toEqual([{ version_id: first.id, percentage: 100 }]);
    expect(await cloudflareWorkers.status(target(), canary)).toMatchObject({ state: 'ready' });
  });

  it('stages a blue-green version without traffic until promoted', async () => {
    await cloudflareWorkers.deploy(target(), request('all_at_once'));
    const green = await cloudflareWorkers.deploy(target(), request('blue_green'));
    expect(await cloudflareWorkers.status(target(), green)).toMatchObject({ state: 'ready' });
    await cloudflareWorkers.promote(target(), green);
    expect(await cloudflareWorkers.status(target(), green)).toMatchObject({ state: 'live' });
  });

  it('refuses a canary on a Worker that serves nothing yet, before uploading', async () => {
    const attempt = cloudflareWorkers.deploy(target(), request('canary', { canaryPercent: 10 }));
    await expect(attempt).rejects.toBeInstanceOf(AdapterValidationError);
    await expect(attempt).rejects.toMatchObject({
      problems: [{ field: 'strategy', message: expect.stringContaining('serves no version yet') }],
    });
    expect(provider.received.map((entry) => entry.method)).toEqual(['GET']);
  });

  it('surfaces the documented error envelope', async () => {
    const attempt = cloudflareWorkers.deploy(
      target({ credentials: { apiToken: 'wrong-token-0123456789' } }),
      request('all_at_once'),
    );
    await expect(attempt).rejects.toBeInstanceOf(ProviderError);
    await expect(attempt).rejects.toMatchObject({
      status: 403,
      kind: 'unauthorized',
      code: '10000',
      message: expect.stringContaining('Authentication error'),
    });
  });

  it('turns a 429 into RateLimitedError with the Retry-After delay', async () => {
    outage = {
      ...failure(429, 971, 'Please wait and consider throttling your request speed'),
      headers: { 'retry-after': '30' },
    };
    const before = Date.now();
    const error = await cloudflareWorkers
      .status(target(), { id: 'v' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitedError);
    const limited = error as RateLimitedError;
    expect(limited.retryAfterMs).toBe(30_000);
    expect(limited.retryAt.getTime()).toBeGreaterThanOrEqual(before + 30_000);
    expect(limited.retryable).toBe(true);
  });

  it('reports a non-JSON failure with the start of the body', async () => {
    outage = HTML_BAD_GATEWAY;
    await expect(cloudflareWorkers.status(target(), { id: 'v' })).rejects.toMatchObject({
      status: 502,
      kind: 'unavailable',
      message: expect.stringContaining('non-JSON answer: <html>'),
    });
  });

  it('validates config, credentials and the build output precisely, sending nothing', async () => {
    const problems = cloudflareWorkers.validate(
      { ...config(), scriptName: '-bad name', mainModule: 'index.js' },
      {},
      { buildId: 'b', files: [{ path: 'worker.js', size: 1 }] },
    );
    expect(problems).toEqual([
      {
        field: 'config.scriptName',
        message: expect.stringMatching(/^invalid setting scriptName: a Worker name starts with/),
      },
      { field: 'credentials.apiToken', message: 'missing credential apiToken' },
    ]);
    expect(
      cloudflareWorkers.validate(
        config(),
        { apiToken: TOKEN },
        {
          buildId: 'b',
          files: [{ path: 'main.mjs', size: 1 }],
        },
      ),
    ).toEqual([{ field: 'config.mainModule', message: 'the build output has no worker.js' }]);

    await expect(
      cloudflareWorkers.deploy(
        { ...target(), credentials: {} },
        request('canary', { canaryPercent: 150 }),
      ),
    ).rejects.toBeInstanceOf(AdapterValidationError);
    expect(provider.received).toHaveLength(0);
  });
});
