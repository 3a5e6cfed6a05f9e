import { describe, expect, it } from 'vitest';
import { canarySteps, servesCanary } from './canary';
import { deploymentHost, hostLabel, routeHost, siteUrl } from './host-routing';

describe('routeHost', () => {
  it('routes deployment, production and custom hosts', () => {
    expect(routeHost('abc123--shop.sparki.app', 'sparki.app')).toEqual({
      kind: 'deployment',
      deployment: 'abc123',
      project: 'shop',
    });
    expect(routeHost('Shop.Sparki.App', 'sparki.app')).toEqual({
      kind: 'production',
      project: 'shop',
    });
    expect(routeHost('shop.localhost:8787', 'localhost')).toEqual({
      kind: 'production',
      project: 'shop',
    });
    expect(routeHost('www.acme.example', 'sparki.app')).toEqual({
      kind: 'custom',
      hostname: 'www.acme.example',
    });
    expect(routeHost(deploymentHost('d1', 'web-app', 'localhost'), 'localhost')).toMatchObject({
      deployment: 'd1',
      project: 'web-app',
    });
  });

  it('splits at the first separator and folds hyphens in host labels', () => {
    expect(routeHost('abc--my--app.sparki.app', 'sparki.app')).toMatchObject({
      deployment: 'abc',
      project: 'my--app',
    });
    expect(hostLabel('my--app---x')).toBe('my-app-x');
  });

  it('refuses hosts that cannot name a project', () => {
    expect(routeHost('sparki.app', 'sparki.app')).toBeNull();
    expect(routeHost('127.0.0.1:8787', 'localhost')).toBeNull();
    expect(routeHost('[::1]:8787', 'localhost')).toBeNull();
    expect(routeHost('a.b.sparki.app', 'sparki.app')).toBeNull();
    expect(routeHost('--shop.sparki.app', 'sparki.app')).toBeNull();
    expect(routeHost('bad_label.sparki.app', 'sparki.app')).toBeNull();
  });
});

describe('siteUrl', () => {
  it('carries the platform’s scheme and port over to a site host', () => {
    expect(siteUrl('http://localhost:8787', 'shop.localhost')).toBe('http://shop.localhost:8787');
    expect(siteUrl('https://sparki.example.com', 'shop.sites.example')).toBe(
      'https://shop.sites.example',
    );
    // The scheme's own port is never written out.
    expect(siteUrl('https://sparki.example.com:443/', 'shop.sites.example')).toBe(
      'https://shop.sites.example',
    );
    expect(siteUrl('http://sparki.test', 'a1--shop.localhost')).toBe('http://a1--shop.localhost');
  });
});

describe('canary', () => {
  it('serves about the configured share of distinct visitors, the same answer every time', async () => {
    const visitors = Array.from({ length: 4000 }, (_, i) => `visitor-${i}`);
    const first = await Promise.all(visitors.map((v) => servesCanary(v, 'dep-1', 20)));
    const share = first.filter(Boolean).length / visitors.length;
    expect(share).toBeGreaterThan(0.17);
    expect(share).toBeLessThan(0.23);
    const again = await Promise.all(visitors.map((v) => servesCanary(v, 'dep-1', 20)));
    expect(again).toEqual(first);
  });

  it('keeps visitors on the canary when the share rises', async () => {
    const visitors = Array.from({ length: 500 }, (_, i) => `v${i}`);
    for (const v of visitors) {
      if (await servesCanary(v, 'dep-2', 10)) expect(await servesCanary(v, 'dep-2', 50)).toBe(true);
    }
    expect(await servesCanary('anyone', 'dep-2', 0)).toBe(false);
    expect(await servesCanary('anyone', 'dep-2', 100)).toBe(true);
  });

  it('normalises steps to end at 100', () => {
    expect(canarySteps([50, 5, 20, 5, 0, 120])).toEqual([5, 20, 50, 100]);
  });
});
