import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BLOB_MAX_BYTES } from '../../core/build-output';
import { builds, environments } from '../../db/schema';
import { blobKey } from '../../platform/storage-keys';
import worker from '../../workers/index';
import { anonymous, as, type Caller } from './api-client';
import { newUser } from './auth-helpers';
import { drain } from './deploy-helpers';
import { testDb } from './harness';
import { addMember, projectFixture } from './project-fixtures';
import { describeFiles, type Listed, outputOf } from './tar-fixture';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface Uploaded {
  build: { id: string; trigger: string; status: string; target: string; branch: string };
  deployment: { id: string; stage: string; status: string };
  files: number;
  bytes: number;
}

/** A project whose environments check health at once, so a drain ends promptly. */
async function uploadProject() {
  const fixture = await projectFixture({ provider: 'none' });
  await db
    .update(environments)
    .set({ deployConfig: { health_check: { retries: 0, interval_ms: 0 } } })
    .where(eq(environments.projectId, fixture.project.id));
  return fixture;
}

const base = (projectId: string) => `/api/projects/${projectId}/uploads`;

/** What `sparki deploy --prebuilt` does: ask, send the missing blobs, deploy. */
async function upload(caller: Caller, projectId: string, files: Listed, production = false) {
  const asked = await as(caller).post<{ missing: string[]; bytes: number }>(
    `${base(projectId)}/missing`,
    { files: describeFiles(files) },
  );
  expect(asked.status, asked.text).toBe(200);
  for (const hash of asked.body.missing) {
    const file = files.find((f) => f.hash === hash)!;
    const put = await as(caller).put(`${base(projectId)}/blobs/${hash}`, file.text, {
      'content-type': 'application/octet-stream',
      'content-length': String(file.size),
    });
    expect(put.status, put.text).toBe(200);
  }
  const deployed = await as(caller).post<Uploaded>(`${base(projectId)}/deploy`, {
    files: describeFiles(files),
    production,
  });
  expect(deployed.status, deployed.text).toBe(202);
  return { missing: asked.body, deployed: deployed.body };
}

async function environmentOf(projectId: string, kind: 'preview' | 'production') {
  const [row] = await db
    .select()
    .from(environments)
    .where(and(eq(environments.projectId, projectId), eq(environments.kind, kind)));
  return row!;
}

async function visit(url: string) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(url), env, ctx);
  await waitOnExecutionContext(ctx);
  return response.text();
}

/**
 * The deployment's URL once it is live. The deployments queue's own consumer may have taken the
 * deployment before the test's drain did (the drain then leaves it to that consumer), so the
 * test waits for the deployment to settle rather than for its own drain.
 */
async function servedUrl(deploymentId: string, owner: Caller) {
  const response = await vi.waitFor(
    async () => {
      const answer = await as(owner).get<{ status: string; url: string }>(
        `/api/deployments/${deploymentId}`,
      );
      expect(answer.body.status, answer.text).toBe('live');
      return answer;
    },
    { timeout: 30_000, interval: 200 },
  );
  return response.body.url;
}

describe('prebuilt uploads (sparki deploy --prebuilt)', () => {
  it('deploys an uploaded directory, and a second upload sends only the changed file', async () => {
    const { owner, project } = await uploadProject();
    const marker = crypto.randomUUID();
    const first = await outputOf({
      'index.html': `<h1>one ${marker}</h1>`,
      'assets/app.js': `console.log("${marker}")`,
    });
    const one = await upload(owner, project.id, first);
    expect(one.missing.missing.sort()).toEqual(first.map((f) => f.hash).sort());
    expect(one.deployed).toMatchObject({
      files: 2,
      build: { trigger: 'api', status: 'succeeded', target: 'preview', branch: 'cli' },
      deployment: { stage: 'preview', status: 'queued' },
    });
    const preview = await environmentOf(project.id, 'preview');
    await drain(preview.id);
    const url = await servedUrl(one.deployed.deployment.id, owner);
    expect(await visit(`${url}/`)).toBe(`<h1>one ${marker}</h1>`);

    const second = await outputOf({
      'index.html': `<h1>two ${marker}</h1>`,
      'assets/app.js': `console.log("${marker}")`,
    });
    const two = await upload(owner, project.id, second);
    expect(two.missing).toEqual({ missing: [second[0]!.hash], bytes: second[0]!.size });
    await drain(preview.id);
    const url2 = await servedUrl(two.deployed.deployment.id, owner);
    expect(await visit(`${url2}/assets/app.js`)).toBe(`console.log("${marker}")`);
    expect(await visit(`${url2}/`)).toBe(`<h1>two ${marker}</h1>`);

    const [row] = await db.select().from(builds).where(eq(builds.id, two.deployed.build.id));
    expect(row!.outputManifestKey).toBeTruthy();
    expect(row!.runnerId).toBeNull();
  });

  it('deploys to production with `production`, on the production branch', async () => {
    const { owner, project } = await uploadProject();
    const files = await outputOf({ 'index.html': `<p>${crypto.randomUUID()}</p>` });
    const { deployed } = await upload(owner, project.id, files, true);
    expect(deployed).toMatchObject({
      build: { target: 'production', branch: 'main' },
      deployment: { stage: 'production' },
    });
    await drain((await environmentOf(project.id, 'production')).id);
    await servedUrl(deployed.deployment.id, owner);
  });

  it('refuses to deploy before every blob is uploaded (409 naming them)', async () => {
    const { owner, project } = await uploadProject();
    const files = await outputOf({ 'index.html': crypto.randomUUID() });
    const response = await as(owner).post<{ error: { details: { missing: string[] } } }>(
      `${base(project.id)}/deploy`,
      { files: describeFiles(files) },
    );
    expect(response.status).toBe(409);
    expect(response.body.error.details.missing).toEqual([files[0]!.hash]);
  });

  it('refuses bad lists, bodies that do not match, oversized blobs and a missing Content-Length', async () => {
    const { owner, project } = await uploadProject();
    const hash = 'a'.repeat(64);
    for (const files of [
      [],
      [{ path: '../x', hash, size: 1 }],
      [{ path: 'a', hash: 'nothex', size: 1 }],
      [{ path: 'a', hash, size: BLOB_MAX_BYTES + 1 }],
    ]) {
      const response = await as(owner).post(`${base(project.id)}/missing`, { files });
      expect(response.status, JSON.stringify(files)).toBe(400);
    }
    const [file] = await outputOf({ 'a.txt': crypto.randomUUID() });
    const wrong = await as(owner).put(`${base(project.id)}/blobs/${file!.hash}`, 'other', {
      'content-type': 'application/octet-stream',
      'content-length': '5',
    });
    expect(wrong.status).toBe(400);
    expect(await env.SITES.head(blobKey(file!.hash))).toBeNull();
    const tooLarge = await as(owner).put(`${base(project.id)}/blobs/${hash}`, 'x', {
      'content-type': 'application/octet-stream',
      'content-length': String(BLOB_MAX_BYTES + 1),
    });
    expect(tooLarge.status).toBe(413);
    const noLength = await as(owner).put(`${base(project.id)}/blobs/${hash}`, 'x', {
      'content-length': 'nope',
    });
    expect(noLength.status).toBe(400);
  });

  it('needs a signed-in developer of the project’s workspace', async () => {
    const { owner, workspace, project } = await uploadProject();
    const files = await outputOf({ 'index.html': crypto.randomUUID() });
    const body = { files: describeFiles(files) };
    expect((await anonymous.post(`${base(project.id)}/missing`, body)).status).toBe(401);

    const viewer = await newUser('viewer');
    await addMember(db, workspace.id, viewer.email, 'viewer');
    expect((await as(viewer).post(`${base(project.id)}/missing`, body)).status).toBe(403);
    expect((await as(viewer).post(`${base(project.id)}/deploy`, body)).status).toBe(403);

    const stranger = await newUser('stranger');
    expect((await as(stranger).post(`${base(project.id)}/missing`, body)).status).toBe(404);
    expect((await as(owner).post(`${base(crypto.randomUUID())}/missing`, body)).status).toBe(404);

    const developer = await newUser('developer');
    await addMember(db, workspace.id, developer.email, 'developer');
    expect((await as(developer).post(`${base(project.id)}/missing`, body)).status).toBe(200);
  });
});
