import { describe, expect, it } from 'vitest';
import {
  AdapterValidationError,
  checkImage,
  checkStrategy,
  type DEPLOY_ADAPTERS,
  deployAdapter,
  PROVIDERS,
  ProviderError,
  retryAfterMs,
  STRATEGIES,
  type Strategy,
} from '../../../domain/deployments/adapters';
import { call } from '../../../domain/deployments/adapters/http';

const IMAGE: Record<keyof typeof DEPLOY_ADAPTERS, 'required' | 'optional' | 'unused'> = {
  cloudflare_workers: 'unused',
  fly_machines: 'required',
  render: 'optional',
  railway: 'optional',
  vercel: 'unused',
  webhook: 'optional',
};

const SUPPORTED: Record<keyof typeof DEPLOY_ADAPTERS, Strategy[]> = {
  cloudflare_workers: ['all_at_once', 'blue_green', 'canary'],
  fly_machines: ['all_at_once'],
  render: ['all_at_once'],
  railway: ['all_at_once'],
  vercel: ['all_at_once', 'blue_green'],
  webhook: ['all_at_once', 'blue_green'],
};

describe('deploy adapter registry', () => {
  it('has one adapter per provider, each declaring what it supports', () => {
    for (const provider of PROVIDERS) {
      const adapter = deployAdapter(provider);
      expect(adapter.id).toBe(provider);
      expect(adapter.capabilities.strategies).toEqual(SUPPORTED[provider]);
      expect(adapter.capabilities.image).toBe(IMAGE[provider]);
      expect(adapter.docsUrl).not.toBe('');
    }
  });

  it('asks for an image exactly where the platform runs one', () => {
    for (const provider of PROVIDERS) {
      const adapter = deployAdapter(provider);
      const problems = checkImage(adapter, { buildId: 'b' });
      expect(problems.length, provider).toBe(IMAGE[provider] === 'required' ? 1 : 0);
      expect(checkImage(adapter, { buildId: 'b', image: 'ghcr.io/acme/shop:1' })).toEqual([]);
    }
  });

  it('identifies the provider-side target, so two environments can tell they share one', () => {
    const vercel = deployAdapter('vercel');
    const project = { projectId: 'prj_1', projectName: 'shop', teamId: 'team_1' };
    expect(vercel.targetKey(project)).toBe(vercel.targetKey({ ...project }));
    expect(vercel.targetKey(project)).not.toBe(vercel.targetKey({ ...project, teamId: 'team_2' }));
    expect(vercel.targetKey({ projectName: 'shop' })).toBeUndefined();
    const workers = deployAdapter('cloudflare_workers');
    const script = {
      accountId: '023e105f4ecef8ad9ca31a8372d0c353',
      scriptName: 'shop',
      compatibilityDate: '2026-11-01',
    };
    // The public URL (used for health checks) is not part of what is deployed to.
    expect(workers.targetKey(script)).toBe(
      workers.targetKey({ ...script, publicUrl: 'https://preview.shop.example' }),
    );
    expect(workers.targetKey(script)).not.toBe(
      workers.targetKey({ ...script, scriptName: 'shop-preview' }),
    );
  });

  it('checkStrategy accepts declared strategies and names the supported ones otherwise', () => {
    for (const provider of PROVIDERS) {
      const adapter = deployAdapter(provider);
      for (const strategy of STRATEGIES) {
        const problems = checkStrategy(adapter, strategy);
        if (SUPPORTED[provider].includes(strategy)) {
          expect(problems).toEqual([]);
        } else {
          expect(problems).toEqual([
            {
              field: 'strategy',
              message: `${adapter.name} does not support ${strategy} (supported: ${SUPPORTED[provider].join(', ')})`,
            },
          ]);
        }
      }
    }
  });

  it('refuses an unsupported strategy at deploy time without calling the provider', async () => {
    const calls: Request[] = [];
    const attempt = deployAdapter('render').deploy(
      {
        config: { serviceId: 'srv-abc' },
        credentials: { apiKey: 'rnd_key' },
        fetch: async (request) => {
          calls.push(request);
          return new Response('{}');
        },
      },
      {
        deploymentId: 'dep_1',
        environment: 'production',
        stage: 'production',
        strategy: 'canary',
        canaryPercent: 20,
        artifact: { buildId: 'b', image: 'ghcr.io/acme/shop:1' },
      },
    );
    await expect(attempt).rejects.toBeInstanceOf(AdapterValidationError);
    await expect(attempt).rejects.toMatchObject({
      problems: [
        { field: 'strategy', message: expect.stringContaining('Render does not support canary') },
      ],
    });
    expect(calls).toEqual([]);
  });

  it('asks a canary for its first share', async () => {
    const attempt = deployAdapter('cloudflare_workers').deploy(
      {
        config: {
          accountId: '023e105f4ecef8ad9ca31a8372d0c353',
          scriptName: 'shop',
          compatibilityDate: '2026-11-01',
        },
        credentials: { apiToken: 'cf-token-0123456789abcdefghij' },
        fetch: () => Promise.reject(new Error('must not be called')),
      },
      {
        deploymentId: 'dep_1',
        environment: 'production',
        stage: 'production',
        strategy: 'canary',
        artifact: { buildId: 'b', files: [{ path: 'worker.js', size: 1 }] },
      },
    );
    await expect(attempt).rejects.toMatchObject({
      problems: [{ field: 'canaryPercent', message: 'a canary needs a share from 1 to 99' }],
    });
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  const headers = (entries: Record<string, string>) => new Headers(entries);

  it('reads each provider convention', () => {
    expect(retryAfterMs(headers({ 'retry-after': '30' }), now)).toBe(30_000);
    expect(retryAfterMs(headers({ 'retry-after': 'Mon, 23 Nov 2026 12:01:00 GMT' }), now)).toBe(
      60_000,
    );
    expect(retryAfterMs(headers({ ratelimit: '"default";r=0;t=42' }), now)).toBe(42_000);
    expect(retryAfterMs(headers({ 'x-ratelimit-reset': String(now / 1000 + 90) }), now)).toBe(
      90_000,
    );
    expect(retryAfterMs(headers({ 'x-ratelimit-reset': String(now + 1500) }), now)).toBe(1500);
    expect(retryAfterMs(headers({ 'ratelimit-reset': '45' }), now)).toBe(45_000);
  });

  it('prefers Retry-After, never goes negative, and defaults to a minute', () => {
    expect(retryAfterMs(headers({ 'retry-after': '5', 'x-ratelimit-reset': '99' }), now)).toBe(
      5000,
    );
    expect(retryAfterMs(headers({ 'x-ratelimit-reset': String(now / 1000 - 10) }), now)).toBe(0);
    expect(retryAfterMs(headers({}), now)).toBe(60_000);
  });
});

describe('call', () => {
  it('gives up on a provider that never answers', async () => {
    const hanging = (request: Request) =>
      new Promise<Response>((_, reject) => {
        request.signal.addEventListener('abort', () => reject(request.signal.reason));
      });
    const attempt = call(
      { provider: 'render', fetch: hanging, readError: () => undefined, timeoutMs: 50 },
      new Request('https://api.render.com/v1/services/srv-a/deploys', { method: 'POST' }),
    );
    await expect(attempt).rejects.toBeInstanceOf(ProviderError);
    await expect(attempt).rejects.toMatchObject({
      status: 0,
      kind: 'unavailable',
      retryable: true,
      message: expect.stringContaining('POST /v1/services/srv-a/deploys failed'),
    });
  });
});
