import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { signArtifactUrl } from '../../core/artifact-url';
import { builds } from '../../db/schema';
import { fetchWorker, seedQueuedBuild, testDb } from './harness';
import { storeContentAddressed, tarGz, textsOfTarGz } from './tar-fixture';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function buildWithOutput() {
  const { build } = await seedQueuedBuild(db);
  const artifactKey = `builds/${build.id}/output.tar.gz`;
  const archive = await tarGz({ 'index.html': '<h1>shop</h1>' });
  await env.ARTIFACTS.put(artifactKey, archive);
  await db.update(builds).set({ artifactKey }).where(eq(builds.id, build.id));
  return { buildId: build.id, archive };
}

/** The path and query of a link signed `ageSeconds` ago. */
async function link(buildId: string, ageSeconds = 0) {
  const url = new URL(
    await signArtifactUrl({
      encryptionKey: env.ENCRYPTION_KEY,
      publicUrl: env.PUBLIC_URL,
      buildId,
      nowSeconds: Math.floor(Date.now() / 1000) - ageSeconds,
    }),
  );
  return `${url.pathname}${url.search}`;
}

async function errorOf(response: Response) {
  const body = await response.json<{
    error: { code: string; message: string };
    request_id: string;
  }>();
  expect(body.request_id).toEqual(expect.any(String));
  return body.error;
}

describe('signed build output downloads', () => {
  it('serves the output archive to a valid, unexpired link without any login', async () => {
    const { buildId, archive } = await buildWithOutput();
    const response = await fetchWorker(await link(buildId));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/gzip');
    expect(response.headers.get('content-length')).toBe(String(archive.byteLength));
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(archive);
  });

  it.each([
    ['each an object', undefined],
    ['in a pack', db],
  ])(
    'assembles the archive from the blobs of an output uploaded content-addressed, %s',
    async (_, packedWith) => {
      const { build } = await seedQueuedBuild(db);
      const files = {
        'index.html': `<h1>${crypto.randomUUID()}</h1>`,
        'assets/app.js': `console.log("${crypto.randomUUID()}")`,
      };
      const key = await storeContentAddressed(build.id, files, packedWith);
      await db.update(builds).set({ outputManifestKey: key }).where(eq(builds.id, build.id));

      const response = await fetchWorker(await link(build.id));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/gzip');
      expect(await textsOfTarGz(response.body!)).toEqual(files);
    },
  );

  it('refuses a missing, altered or other build’s signature with 403', async () => {
    const { buildId } = await buildWithOutput();
    const other = await buildWithOutput();
    const signed = new URL(await link(buildId), env.PUBLIC_URL);

    const unsigned = await fetchWorker(`/api/artifacts/${buildId}/output.tar.gz`);
    expect(unsigned.status).toBe(403);
    expect(await errorOf(unsigned)).toMatchObject({ code: 'forbidden' });

    const later = new URL(signed);
    later.searchParams.set('expires', String(Number(signed.searchParams.get('expires')) + 86400));
    expect((await fetchWorker(`${later.pathname}${later.search}`)).status).toBe(403);

    const borrowed = `/api/artifacts/${other.buildId}/output.tar.gz${signed.search}`;
    const refused = await fetchWorker(borrowed);
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toMatchObject({ code: 'forbidden' });
  });

  it('answers 410 once the link has expired', async () => {
    const { buildId } = await buildWithOutput();
    const response = await fetchWorker(await link(buildId, 2 * 3600));
    expect(response.status).toBe(410);
    expect(await errorOf(response)).toMatchObject({
      code: 'gone',
      message: 'This download link has expired',
    });
  });

  it('answers 404 for a build without output, or whose archive is gone', async () => {
    const { build } = await seedQueuedBuild(db);
    const none = await fetchWorker(await link(build.id));
    expect(none.status).toBe(404);
    expect(await errorOf(none)).toMatchObject({ code: 'not_found' });

    const { buildId } = await buildWithOutput();
    await env.ARTIFACTS.delete(`builds/${buildId}/output.tar.gz`);
    expect((await fetchWorker(await link(buildId))).status).toBe(404);

    expect((await fetchWorker(await link(crypto.randomUUID()))).status).toBe(404);
  });

  it('is described in the API document with its failures', async () => {
    const doc = await (await fetchWorker('/api/openapi.json')).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    const route = doc.paths['/api/artifacts/{buildId}/output.tar.gz']?.get;
    expect(Object.keys(route?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '403', '404', '410']),
    );
  });
});
