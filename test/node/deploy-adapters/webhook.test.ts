import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  RateLimitedError,
  REPLAY_WINDOW_SECONDS,
  signWebhook,
  verifyWebhook,
} from '../../../domain/deployments/adapters';
import { webhook } from '../../../domain/deployments/adapters/webhook';
import { type FakeProvider, type Received, type Reply, startFakeProvider } from './fake-provider';

const SECRET = 'whsec_0123456789abcdef0123456789abcdef';

let receiver: FakeProvider;
let outage: Reply | undefined;
let deliveries: string[];
const states = new Map<string, string>();

/** Checked the way a receiver written from the docs would, with node:crypto, not our helper. */
function signatureOk(request: Received): boolean {
  const timestamp = Number(request.headers['x-sparki-timestamp']);
  if (Math.abs(Date.now() / 1000 - timestamp) > REPLAY_WINDOW_SECONDS) return false;
  const expected = createHmac('sha256', SECRET)
    .update(`${timestamp}.${request.body.toString('utf8')}`)
    .digest('hex');
  return request.headers['x-sparki-signature'] === `sha256=${expected}`;
}

beforeAll(async () => {
  receiver = await startFakeProvider((request) => {
    if (outage) return outage;
    if (!signatureOk(request)) return { status: 401, json: { error: 'invalid signature' } };
    if (request.method === 'POST' && request.path === '/hooks/deploy') {
      const delivery = String(request.headers['x-sparki-delivery']);
      if (!deliveries.includes(delivery)) deliveries.push(delivery);
      const payload = request.json as { event: string; deployment: { id: string } };
      states.set(payload.deployment.id, payload.event === 'deploy' ? 'in_progress' : 'live');
      return { status: 202, json: { url: `https://${payload.deployment.id}.shop.example` } };
    }
    if (request.method === 'GET' && request.path === '/hooks/status') {
      const id = request.query.get('deployment') ?? '';
      return {
        status: 200,
        json: { status: states.get(id) ?? 'unknown', url: `https://${id}.shop.example` },
      };
    }
    return { status: 404, text: 'no such hook' };
  });
});

afterAll(() => receiver.close());

beforeEach(() => {
  outage = undefined;
  deliveries = [];
  states.clear();
  receiver.received.length = 0;
});

const target = (extra: { statusUrl?: boolean; secret?: string } = {}) => ({
  config: {
    url: `${receiver.base}/hooks/deploy`,
    ...(extra.statusUrl === false ? {} : { statusUrl: `${receiver.base}/hooks/status` }),
  },
  credentials: { secret: extra.secret ?? SECRET },
  fetch: receiver.fetch,
});
const request = {
  deploymentId: 'dep_42',
  environment: 'production',
  stage: 'production' as const,
  strategy: 'blue_green' as const,
  artifact: {
    buildId: 'bld_7',
    commitSha: 'a1b2c3d',
    downloadUrl: 'https://sparki.example/artifacts/bld_7.tar.gz',
  },
};

describe('signed deploy webhook adapter', () => {
  it('POSTs the documented signed payload and keeps the URL the receiver answers', async () => {
    const ref = await webhook.deploy(target(), request);
    const [sent] = receiver.received;
    expect(sent).toMatchObject({ method: 'POST', path: '/hooks/deploy' });
    expect(sent!.headers['content-type']).toBe('application/json');
    expect(sent!.headers['x-sparki-event']).toBe('deploy');
    expect(sent!.headers['x-sparki-delivery']).toBe('dep_42:deploy');
    expect(signatureOk(sent!)).toBe(true);
    expect(sent!.json).toEqual({
      event: 'deploy',
      deployment: { id: 'dep_42', stage: 'production', strategy: 'blue_green' },
      build: { id: 'bld_7', commit_sha: 'a1b2c3d' },
      artifact_url: 'https://sparki.example/artifacts/bld_7.tar.gz',
      environment: 'production',
    });
    expect(ref).toEqual({ id: 'dep_42', url: 'https://dep_42.shop.example' });
  });

  it('passes the image on when the environment names one', async () => {
    const image = 'ghcr.io/acme/shop:a1b2c3d';
    await webhook.deploy(target(), { ...request, artifact: { ...request.artifact, image } });
    expect(receiver.received[0]!.json).toMatchObject({ event: 'deploy', image });
  });

  it('uses the same delivery id on redelivery so receivers can dedupe', async () => {
    await webhook.deploy(target(), request);
    await webhook.deploy(target(), request);
    expect(receiver.received).toHaveLength(2);
    expect(deliveries).toEqual(['dep_42:deploy']);
  });

  it('polls the optional status URL with a signed GET, and sends promote and rollback events', async () => {
    const ref = await webhook.deploy(target(), request);
    expect(await webhook.status(target(), ref)).toEqual({
      state: 'in_progress',
      url: 'https://dep_42.shop.example',
    });
    const poll = receiver.received.at(-1)!;
    expect(poll.method).toBe('GET');
    expect(poll.query.get('deployment')).toBe('dep_42');

    await webhook.promote(target(), ref);
    expect(receiver.received.at(-1)!.json).toEqual({
      event: 'promote',
      deployment: { id: 'dep_42' },
    });
    expect(receiver.received.at(-1)!.headers['x-sparki-delivery']).toBe('dep_42:promote');
    expect(await webhook.status(target(), ref)).toMatchObject({ state: 'live' });

    await webhook.rollback(target(), { id: 'dep_41' });
    expect(receiver.received.at(-1)!.json).toEqual({
      event: 'rollback',
      deployment: { id: 'dep_41' },
    });

    expect(await webhook.status(target({ statusUrl: false }), ref)).toMatchObject({
      state: 'live',
    });
  });

  it('fails on a non-2xx answer, including a receiver that rejects the signature', async () => {
    await expect(
      webhook.deploy(target({ secret: `${SECRET}-other` }), request),
    ).rejects.toMatchObject({
      status: 401,
      kind: 'unauthorized',
      message: expect.stringContaining('invalid signature'),
    });
    outage = { status: 500, text: 'Internal Server Error' };
    await expect(webhook.deploy(target(), request)).rejects.toMatchObject({
      status: 500,
      kind: 'unavailable',
      message: expect.stringContaining('non-JSON answer: Internal Server Error'),
    });
    outage = { status: 429, text: 'slow down', headers: { 'retry-after': '5' } };
    const limited = await webhook.deploy(target(), request).catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(5000);
  });

  it('verifies signatures inside the replay window only', async () => {
    const body = '{"event":"deploy"}';
    const now = 1_800_000_000;
    const signature = await signWebhook(SECRET, now, body);
    const check = (over: Partial<Parameters<typeof verifyWebhook>[0]>) =>
      verifyWebhook({
        secret: SECRET,
        timestamp: String(now),
        body,
        signature,
        nowSeconds: now,
        ...over,
      });
    expect(await check({})).toBe(true);
    expect(await check({ nowSeconds: now + REPLAY_WINDOW_SECONDS + 1 })).toBe(false);
    expect(await check({ body: '{"event":"rollback"}' })).toBe(false);
    expect(await check({ timestamp: String(now - 1) })).toBe(false);
    expect(await check({ signature: null })).toBe(false);
  });

  it('wants https (loopback aside), a long secret and a download URL', () => {
    expect(
      webhook.validate(
        { url: 'http://deploy.example.com/hook' },
        { secret: 'short' },
        { buildId: 'b' },
      ),
    ).toEqual([
      { field: 'config.url', message: 'invalid setting url: must be an https URL' },
      {
        field: 'credentials.secret',
        message: 'invalid credential secret: use a signing secret of at least 32 characters',
      },
    ]);
    expect(
      webhook.validate(
        { url: 'https://deploy.example.com/hook' },
        { secret: SECRET },
        { buildId: 'b' },
      ),
    ).toEqual([
      {
        field: 'artifact.downloadUrl',
        message: 'the receiver needs a URL to fetch the build from',
      },
    ]);
  });
});
