import { describe, expect, it } from 'vitest';
import { fetchWorker } from './harness';

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

  it('serves a browsable reference', async () => {
    const response = await fetchWorker('/api/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('/api/openapi.json');
  });
});
