import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../workers/index';
import { fetchWorker } from './harness';

// The built dashboard (web/dist, `npm run web:build`) is the Worker's assets binding.
describe('the dashboard on the platform origin', () => {
  it('serves the single-page app at / and at any dashboard path, for its router', async () => {
    for (const path of ['/', '/projects/0b8f7e2c-0000-4000-8000-000000000000', '/sign-in?x=1']) {
      const response = await fetchWorker(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toContain('text/html');
      expect(await response.text(), path).toContain('<div id="root"></div>');
    }
  });

  it('leaves the API, webhooks, health and dev paths to the Worker, with JSON errors', async () => {
    for (const path of [
      '/api/nope',
      '/api',
      '/webhooks/nope/x',
      '/.well-known/nope',
      '/dev/nope',
    ]) {
      const response = await fetchWorker(path);
      expect(response.headers.get('content-type'), path).toContain('application/json');
    }
    const missing = await fetchWorker('/api/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await fetchWorker('/api/nope', { method: 'POST' })).status).toBe(404);
  });

  it('answers a mutation on a dashboard path as the API would, not with the page', async () => {
    const response = await fetchWorker('/projects', { method: 'POST' });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/json');
  });

  it("never serves the dashboard on a hosted site's host or any host but the platform's", async () => {
    for (const url of [
      `http://nothing-here.${env.HOSTING_DOMAIN}/`,
      'https://unverified-domain.example/',
      'http://127.0.0.1:8787/sign-in',
    ]) {
      const ctx = createExecutionContext();
      const response = await worker.fetch(new Request(url), env, ctx);
      await waitOnExecutionContext(ctx);
      expect(response.status, url).toBe(404);
      expect(await response.text(), url).not.toContain('<div id="root"></div>');
    }
  });
});
