import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { builds, deployments, environments } from '../../db/schema';
import { publishArtifact, publishOutputManifest } from '../../domain/hosting/publish';
import { blobKey, outputManifestKey } from '../../platform/storage-keys';
import worker from '../../workers/index';
import { anonymous, as } from './api-client';
import { testDb } from './harness';
import {
  onlineRunner,
  ownerWithWorkspace,
  planBuild,
  queuedBuild,
  registerRunner,
} from './runner-helpers';
import { describeFiles, type Listed, outputOf, storeContentAddressed, tarGz } from './tar-fixture';

const { db, pool } = testDb();
afterAll(() => pool.end());

const encoder = new TextEncoder();

async function leasedJob() {
  const { owner, workspace } = await ownerWithWorkspace();
  const runner = await registerRunner(owner.access_token, workspace.id);
  const socket = await onlineRunner(runner.runner_token);
  const { project, build } = await queuedBuild(db, workspace.id);
  await planBuild(build.id);
  const job = await socket.next('job');
  return { project, build, token: job.job_token };
}

const listing = (files: Listed) => ({ files: describeFiles(files) });

function putBlob(buildId: string, token: string, hash: string, body: string) {
  return as(token).put(`/api/jobs/${buildId}/blobs/${hash}`, body, {
    'content-type': 'application/octet-stream',
    'content-length': String(encoder.encode(body).byteLength),
  });
}

async function missing(buildId: string, token: string, files: Listed) {
  const response = await as(token).post<{ missing: string[]; bytes: number }>(
    `/api/jobs/${buildId}/output/missing`,
    listing(files),
  );
  expect(response.status, response.text).toBe(200);
  return response.body;
}

describe('content-addressed build output', () => {
  it('asks for the missing blobs only, stores them under their hash and commits the manifest', async () => {
    const { build, token } = await leasedJob();
    const marker = crypto.randomUUID();
    const files = await outputOf({
      'index.html': `<h1>${marker}</h1>`,
      'assets/app.js': `console.log("${marker}")`,
      'copy.html': `<h1>${marker}</h1>`,
    });
    const first = await missing(build.id, token, files);
    expect(first.missing.sort()).toEqual([files[0]!.hash, files[1]!.hash].sort());
    expect(first.bytes).toBe(files[0]!.size + files[1]!.size);

    // Committing before the upload names what is missing.
    const early = await as(token).put<{ error: { details: { missing: string[] } } }>(
      `/api/jobs/${build.id}/output`,
      listing(files),
    );
    expect(early.status).toBe(409);
    const earlyBody = early.body;
    expect(earlyBody.error.details.missing.sort()).toEqual(first.missing.sort());

    for (const file of files.slice(0, 2)) {
      const put = await putBlob(build.id, token, file.hash, file.text);
      expect(put.status, put.text).toBe(200);
      expect(put.body).toEqual({ hash: file.hash, size: file.size, stored: true });
    }
    expect((await missing(build.id, token, files)).missing).toEqual([]);
    const again = await putBlob(build.id, token, files[0]!.hash, files[0]!.text);
    expect(again.body).toMatchObject({ stored: false });

    const commit = await as(token).put(`/api/jobs/${build.id}/output`, listing(files));
    expect(commit.status, commit.text).toBe(200);
    expect(commit.body).toEqual({
      manifest_key: outputManifestKey(build.id),
      files: 3,
      bytes: files.reduce((sum, file) => sum + file.size, 0),
    });
    const [row] = await db.select().from(builds).where(eq(builds.id, build.id));
    expect(row!.outputManifestKey).toBe(outputManifestKey(build.id));
    const manifest = await (await env.SITES.get(outputManifestKey(build.id)))!.json();
    expect(manifest).toEqual({
      version: 1,
      spa: false,
      files: Object.fromEntries(
        files.map((file) => [`/${file.path}`, { hash: file.hash, size: file.size }]),
      ),
    });
  });

  it('refuses a body that does not hash to the path, and stores nothing', async () => {
    const { build, token } = await leasedJob();
    const [file] = await outputOf({ 'a.txt': crypto.randomUUID() });
    const response = await putBlob(build.id, token, file!.hash, 'something else');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { code: 'bad_request' } });
    expect(await env.SITES.head(blobKey(file!.hash))).toBeNull();
  });

  it('refuses unsafe paths, duplicates and a missing job token', async () => {
    const { build, token } = await leasedJob();
    const hash = 'a'.repeat(64);
    for (const path of ['../etc/passwd', '/abs', 'a//b', 'a\\b', 'x/./y']) {
      const response = await as(token).post(`/api/jobs/${build.id}/output/missing`, {
        files: [{ path, hash, size: 1 }],
      });
      expect(response.status, path).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'validation_failed' } });
    }
    const twice = await as(token).post(`/api/jobs/${build.id}/output/missing`, {
      files: [
        { path: 'a', hash, size: 1 },
        { path: 'a', hash, size: 1 },
      ],
    });
    expect(twice.status).toBe(400);
    const unauthenticated = await anonymous.post(`/api/jobs/${build.id}/output/missing`, {
      files: [{ path: 'a', hash, size: 1 }],
    });
    expect(unauthenticated.status).toBe(401);
    const noLength = await as(token).put(`/api/jobs/${build.id}/blobs/${hash}`, 'x', {
      'content-length': 'nope',
    });
    expect(noLength.status).toBe(400);
  });

  it('a deployment publishes the committed output without copying a blob', async () => {
    const { project, build, token } = await leasedJob();
    const marker = crypto.randomUUID();
    const files = await outputOf({ 'index.html': `<h1>${marker}</h1>` });
    await putBlob(build.id, token, files[0]!.hash, files[0]!.text);
    const commit = await as(token).put(`/api/jobs/${build.id}/output`, listing(files));
    expect(commit.status).toBe(200);
    const complete = await as(token).post(`/api/jobs/${build.id}/complete`, {
      status: 'succeeded',
    });
    expect(complete.status).toBe(200);

    const [preview] = await db
      .insert(environments)
      .values({
        projectId: project.id,
        name: 'preview',
        kind: 'preview',
        deployConfig: { health_check: { retries: 0, interval_ms: 0 } },
      })
      .returning();
    const messageId = `msg-${crypto.randomUUID()}`;
    const batch = createMessageBatch('sparki-deployments', [
      {
        id: messageId,
        timestamp: new Date(),
        attempts: 1,
        body: {
          type: 'build.succeeded',
          build_id: build.id,
          project_id: project.id,
          target: 'preview',
          artifact_key: null,
        },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    await waitOnExecutionContext(ctx);
    // Consumed and acknowledged: a failed deploy would have asked for a retry instead.
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toEqual([messageId]);

    const [deployment] = await db
      .select()
      .from(deployments)
      .where(eq(deployments.environmentId, preview!.id));
    expect(deployment!.status, deployment!.error ?? '').toBe('live');
    const page = await worker.fetch(new Request(deployment!.url!), env, createExecutionContext());
    expect(await page.text()).toBe(`<h1>${marker}</h1>`);
  });

  it("answers per workspace: another tenant's blob is missing until this workspace uploads it", async () => {
    const a = await leasedJob();
    const b = await leasedJob();
    expect(b.project.workspaceId).not.toBe(a.project.workspaceId);
    const files = await outputOf({ 'index.html': `<h1>${crypto.randomUUID()}</h1>` });
    const [file] = files;
    await putBlob(a.build.id, a.token, file!.hash, file!.text);
    expect((await missing(a.build.id, a.token, files)).missing).toEqual([]);
    const shared = await env.SITES.head(blobKey(file!.hash));

    // B learns nothing about what A stores, and cannot reference A's blob by its hash.
    expect(await missing(b.build.id, b.token, files)).toEqual({
      missing: [file!.hash],
      bytes: file!.size,
    });
    const early = await as(b.token).put(`/api/jobs/${b.build.id}/output`, listing(files));
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({
      error: { code: 'conflict', details: { missing: [file!.hash] } },
    });
    // Naming the hash with other bytes proves nothing, even though the blob is stored.
    const forged = await putBlob(b.build.id, b.token, file!.hash, 'x'.repeat(file!.size));
    expect(forged.status).toBe(400);
    expect((await missing(b.build.id, b.token, files)).missing).toEqual([file!.hash]);

    const upload = await putBlob(b.build.id, b.token, file!.hash, file!.text);
    expect(upload.status, upload.text).toBe(200);
    expect(upload.body).toEqual({ hash: file!.hash, size: file!.size, stored: false });
    // The shared blob was not written again.
    expect((await env.SITES.head(blobKey(file!.hash)))!.version).toBe(shared!.version);
    expect((await missing(b.build.id, b.token, files)).missing).toEqual([]);
    const commit = await as(b.token).put(`/api/jobs/${b.build.id}/output`, listing(files));
    expect(commit.status, commit.text).toBe(200);
  });

  it("publishing records the workspace's blobs, so output stored before the per-workspace answer still counts", async () => {
    const { project, build, token } = await leasedJob();
    const options = { spa: false, workspaceId: project.workspaceId };
    const committed = await outputOf({ 'index.html': crypto.randomUUID() });
    const key = await storeContentAddressed(build.id, { 'index.html': committed[0]!.text });
    expect((await missing(build.id, token, committed)).missing).toEqual([committed[0]!.hash]);
    await publishOutputManifest(env, db, key, crypto.randomUUID(), options);
    expect((await missing(build.id, token, committed)).missing).toEqual([]);

    const archived = await outputOf({ 'index.html': crypto.randomUUID() });
    const artifactKey = `artifacts/${crypto.randomUUID()}.tar.gz`;
    await env.ARTIFACTS.put(artifactKey, await tarGz({ 'index.html': archived[0]!.text }));
    expect((await missing(build.id, token, archived)).missing).toEqual([archived[0]!.hash]);
    await publishArtifact(env, db, artifactKey, crypto.randomUUID(), options);
    expect((await missing(build.id, token, archived)).missing).toEqual([]);
  });
});
