import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../../domain/deployments/adapters';
import { render } from '../../../domain/deployments/adapters/render';
import {
  type FakeProvider,
  HTML_BAD_GATEWAY,
  type Reply,
  startFakeProvider,
} from './fake-provider';

const SERVICE = 'srv-d1a2b3c4d5';
const KEY = 'rnd_abcdef123456';
const BASE = `/v1/services/${SERVICE}`;

interface Deploy {
  id: string;
  status: string;
  trigger: string;
  image?: { ref: string };
  commit?: { id: string };
}

let provider: FakeProvider;
let deploys: Deploy[];
let outage: Reply | undefined;

const error = (status: number, message: string, id = 'error'): Reply => ({
  status,
  json: { id, message },
});

beforeAll(async () => {
  provider = await startFakeProvider((request) => {
    if (outage) return outage;
    if (request.headers.authorization !== `Bearer ${KEY}`) return error(401, 'unauthorized');
    if (!request.path.startsWith(BASE)) return error(404, 'service not found', 'not_found');
    const rest = request.path.slice(BASE.length);
    if (rest === '/deploys' && request.method === 'POST') {
      const body = request.json as { clearCache?: string; imageUrl?: string; commitId?: string };
      if (body.clearCache !== 'clear' && body.clearCache !== 'do_not_clear') {
        return error(400, 'clearCache must be clear or do_not_clear');
      }
      if (body.imageUrl && !body.imageUrl.startsWith('ghcr.io/acme/shop')) {
        return error(400, 'image host, repository and name must match the service image');
      }
      const deploy: Deploy = {
        id: `dep-${deploys.length + 1}`,
        status: 'created',
        trigger: 'api',
        ...(body.imageUrl ? { image: { ref: body.imageUrl } } : {}),
        ...(body.commitId ? { commit: { id: body.commitId } } : {}),
      };
      for (const earlier of deploys) if (earlier.status === 'live') earlier.status = 'deactivated';
      deploys.push(deploy);
      return { status: 201, json: { ...deploy } };
    }
    const single = /^\/deploys\/([^/]+)$/.exec(rest);
    if (single && request.method === 'GET') {
      const deploy = deploys.find((candidate) => candidate.id === single[1]);
      return deploy ? { status: 200, json: deploy } : error(404, 'deploy not found', 'not_found');
    }
    if (rest === '/rollback' && request.method === 'POST') {
      const { deployId } = request.json as { deployId?: string };
      const to = deploys.find((candidate) => candidate.id === deployId);
      if (!to) return error(404, 'deploy not found', 'not_found');
      const deploy: Deploy = {
        id: `dep-${deploys.length + 1}`,
        status: 'created',
        trigger: 'rollback',
      };
      deploys.push(deploy);
      return { status: 201, json: deploy };
    }
    return error(404, 'not found');
  });
});

afterAll(() => provider.close());

beforeEach(() => {
  deploys = [];
  outage = undefined;
  provider.received.length = 0;
});

const target = (credentials: unknown = { apiKey: KEY }) => ({
  config: {
    serviceId: SERVICE,
    publicUrl: 'https://shop.onrender.com',
    apiBase: `${provider.base}/v1`,
  },
  credentials,
  fetch: provider.fetch,
});
const request = (artifact: { image?: string; commitSha?: string }) => ({
  deploymentId: 'dep_1',
  environment: 'production',
  stage: 'production' as const,
  strategy: 'all_at_once' as const,
  artifact: { buildId: 'bld_1', ...artifact },
});

describe('Render adapter', () => {
  it('triggers a deploy of the image and follows its documented statuses', async () => {
    const ref = await render.deploy(target(), request({ image: 'ghcr.io/acme/shop:1.2.0' }));
    const [trigger] = provider.received;
    expect(trigger).toMatchObject({ method: 'POST', path: `${BASE}/deploys` });
    expect(trigger!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(trigger!.headers['content-type']).toBe('application/json');
    expect(trigger!.json).toEqual({
      clearCache: 'do_not_clear',
      imageUrl: 'ghcr.io/acme/shop:1.2.0',
    });
    expect(ref).toEqual({ id: 'dep-1', url: 'https://shop.onrender.com' });

    for (const [renderStatus, state] of [
      ['build_in_progress', 'in_progress'],
      ['update_in_progress', 'in_progress'],
      ['live', 'live'],
      ['update_failed', 'failed'],
      ['canceled', 'canceled'],
      ['deactivated', 'superseded'],
    ] as const) {
      deploys[0]!.status = renderStatus;
      expect(await render.status(target(), ref)).toMatchObject({ state, detail: renderStatus });
    }
    expect(provider.received.at(-1)).toMatchObject({
      method: 'GET',
      path: `${BASE}/deploys/dep-1`,
    });
  });

  it('deploys a commit when there is no image, and rolls back natively by deploy id', async () => {
    const first = await render.deploy(target(), request({ commitSha: 'a1b2c3d' }));
    expect(provider.received[0]!.json).toEqual({ clearCache: 'do_not_clear', commitId: 'a1b2c3d' });

    const back = await render.rollback(target(), first);
    expect(provider.received.at(-1)).toMatchObject({ method: 'POST', path: `${BASE}/rollback` });
    expect(provider.received.at(-1)!.json).toEqual({ deployId: 'dep-1' });
    expect(back).toEqual({ id: 'dep-2', url: 'https://shop.onrender.com' });
  });

  it('surfaces the documented { id, message } errors', async () => {
    await expect(
      render.deploy(target({ apiKey: 'rnd_wrong' }), request({ commitSha: 'a' })),
    ).rejects.toMatchObject({
      status: 401,
      kind: 'unauthorized',
    });
    await expect(
      render.deploy(target(), request({ image: 'docker.io/other/image:1' })),
    ).rejects.toMatchObject({
      status: 400,
      kind: 'invalid',
      message: expect.stringContaining('must match the service image'),
    });
    await expect(render.status(target(), { id: 'dep-404' })).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });

  it('reads Ratelimit-Reset on a 429 and reports non-JSON failures', async () => {
    outage = {
      ...error(429, 'rate limit exceeded'),
      headers: { 'ratelimit-limit': '10', 'ratelimit-remaining': '0', 'ratelimit-reset': '45' },
    };
    const limited = await render
      .status(target(), { id: 'dep-1' })
      .catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(45_000);

    outage = HTML_BAD_GATEWAY;
    await expect(render.status(target(), { id: 'dep-1' })).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining('non-JSON answer'),
    });
  });

  it('validates the service id, key and artifact; supports only all-at-once', () => {
    expect(
      render.validate({ serviceId: 'shop' }, { apiKey: 'abc' }, { buildId: 'b' }, 'canary'),
    ).toEqual([
      { field: 'config.serviceId', message: expect.stringContaining('srv-') },
      { field: 'credentials.apiKey', message: expect.stringContaining('rnd_') },
      { field: 'strategy', message: expect.stringContaining('Render does not support canary') },
    ]);
    expect(render.validate({ serviceId: SERVICE }, { apiKey: KEY }, { buildId: 'b' })).toEqual([
      { field: 'artifact', message: 'Render deploys an image or a commit; the build has neither' },
    ]);
  });
});
