import { describe, expect, it } from 'vitest';
import { newApp } from '../../workers/app';
import { fetchWorker } from './harness';

// Served outside the JSON API: the description itself, its viewer, the pages mailed links open
// (HTML), and the dev-only mailbox.
const UNDESCRIBED = new Set([
  '/api/openapi.json',
  '/api/docs',
  '/api/docs/viewer.js',
  '/dev/mailbox/{email}',
]);

describe('API description', () => {
  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const response = await fetchWorker('/api/openapi.json');
    expect(response.status).toBe(200);
    const doc = await response.json<{
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths['/readyz']?.get?.responses ?? {})).toEqual(['200', '503']);
    expect(doc.paths['/healthz']?.get).toBeDefined();
    expect(doc.components.schemas.ErrorResponse).toBeDefined();
  });

  it('serves a browsable reference that needs nothing from the internet', async () => {
    const response = await fetchWorker('/api/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const page = await response.text();
    expect(page).toContain('/api/openapi.json');
    const scripts = [...page.matchAll(/<script\b[^>]*\bsrc="([^"]*)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['/api/docs/viewer.js']);
    expect(page).not.toMatch(/\bimport\b|https?:\/\//);

    const viewer = await fetchWorker('/api/docs/viewer.js');
    expect(viewer.status).toBe(200);
    expect(viewer.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await viewer.text()).toContain('createApiReference');
  });

  it('describes every route the app serves', async () => {
    const doc = await (await fetchWorker('/api/openapi.json')).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const served = newApp()
      .routes.filter((route) => route.method !== 'ALL')
      .map((route) => ({
        method: route.method.toLowerCase(),
        path: route.path.replace(/:(\w+)/g, '{$1}'),
      }))
      .filter((route) => !UNDESCRIBED.has(route.path));
    expect(served.length).toBeGreaterThan(20);
    const missing = served.filter((route) => !doc.paths[route.path]?.[route.method]);
    expect(missing).toEqual([]);
  });
});
