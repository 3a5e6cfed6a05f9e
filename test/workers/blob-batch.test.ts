import { env } from 'cloudflare:test';
import { inArray } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { BLOB_BATCH_MAX_BLOBS, BLOB_BATCH_MAX_BYTES } from '../../core/build-output';
import { ManifestSchema } from '../../core/hosting/manifest';
import { packedBlobs } from '../../db/schema';
import { openBlob } from '../../domain/hosting/blob-store';
import { blobKey, outputManifestKey, packKey } from '../../platform/storage-keys';
import { as } from './api-client';
import { newUser } from './auth-helpers';
import { fetchWorker, testDb } from './harness';
import { addMember, projectFixture } from './project-fixtures';
import { leasedJob } from './runner-helpers';
import { describeFiles, type Listed, outputOf } from './tar-fixture';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface Answer {
  blobs?: { hash: string; size: number; stored: boolean }[];
  error?: { code: string; message: string };
}

/** POSTs `parts` as multipart/form-data, each a file part unless given as a plain string. */
async function postBatch(
  path: string,
  token: string | undefined,
  parts: [string, Blob | string][],
) {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value, name);
  }
  const response = await fetchWorker(path, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  return { status: response.status, body: await response.json<Answer>() };
}

const filePart = (file: Listed[number]): [string, Blob] => [file.hash, new Blob([file.text])];

/** The pack each of `hashes` was written into, by hash. */
async function packsOf(hashes: string[]) {
  const rows = await db.select().from(packedBlobs).where(inArray(packedBlobs.hash, hashes));
  return new Map(rows.map((row) => [row.hash, row.pack]));
}

describe('a batch of blobs in one request', () => {
  it('stores the parts as one pack, and the committed output reads each from its range', async () => {
    const { build, token } = await leasedJob(db, {});
    const marker = crypto.randomUUID();
    const files = await outputOf({
      'index.html': `<h1>${marker}</h1>`,
      'app.css': `h1 { content: "${marker}" }`,
      'app.js': `console.log("${marker}")`,
      'empty.txt': '',
    });
    const path = `/api/jobs/${build.id}/blobs`;
    const sent = await postBatch(path, token, files.map(filePart));
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    expect(sent.body.blobs).toEqual(
      files.map((file) => ({ hash: file.hash, size: file.size, stored: expect.any(Boolean) })),
    );
    // One storage write for the three files with content; the empty one is an object of its own.
    const packs = await packsOf(files.map((file) => file.hash));
    expect(packs.size).toBe(3);
    expect(new Set(packs.values()).size).toBe(1);
    const [pack] = packs.values();
    const packed = await env.SITES.head(packKey(pack!));
    expect(packed!.size).toBe(files.reduce((sum, file) => sum + file.size, 0));
    expect(await env.SITES.head(blobKey(files[3]!.hash))).not.toBeNull();
    const missing = await as(token).post<{ missing: string[] }>(
      `/api/jobs/${build.id}/output/missing`,
      { files: describeFiles(files) },
    );
    expect(missing.body.missing).toEqual([]);
    const committed = await as(token).put(`/api/jobs/${build.id}/output`, {
      files: describeFiles(files),
    });
    expect(committed.status, committed.text).toBe(200);
    const manifest = ManifestSchema.parse(
      await (await env.SITES.get(outputManifestKey(build.id)))!.json(),
    );
    expect(manifest.packs).toEqual([pack]);
    for (const file of files) {
      const entry = manifest.files[`/${file.path}`]!;
      expect(entry.packed === undefined, file.path).toBe(file.size === 0);
      const body = await openBlob(env.SITES, manifest, entry);
      expect(await new Response(body).text(), file.path).toBe(file.text);
    }
    // The same batch again: already stored, nothing rewritten.
    const again = await postBatch(path, token, files.map(filePart));
    expect(again.body.blobs?.map((blob) => blob.stored)).toEqual(files.map(() => false));
    expect((await env.SITES.head(packKey(pack!)))!.version).toBe(packed!.version);
    expect(await packsOf(files.map((file) => file.hash))).toEqual(packs);
  });

  it('packs only the parts no pack holds yet', async () => {
    const { build, token } = await leasedJob(db, {});
    const [old, fresh] = await outputOf({
      'a.txt': crypto.randomUUID(),
      'b.txt': crypto.randomUUID(),
    });
    const path = `/api/jobs/${build.id}/blobs`;
    await postBatch(path, token, [filePart(old!)]);
    const before = await packsOf([old!.hash]);
    const sent = await postBatch(path, token, [filePart(old!), filePart(fresh!)]);
    expect(sent.body.blobs?.map((blob) => blob.stored)).toEqual([false, true]);
    const after = await packsOf([old!.hash, fresh!.hash]);
    expect(after.get(old!.hash)).toBe(before.get(old!.hash));
    expect(after.get(fresh!.hash)).not.toBe(before.get(old!.hash));
    expect((await env.SITES.head(packKey(after.get(fresh!.hash)!)))!.size).toBe(fresh!.size);
  });

  it("checks another tenant's blob in a batch without rewriting it, and proves it only for a true body", async () => {
    const a = await leasedJob(db, {});
    const b = await leasedJob(db, {});
    expect(b.project.workspaceId).not.toBe(a.project.workspaceId);
    const files = await outputOf({ 'index.html': crypto.randomUUID() });
    const [file] = files;
    const first = await postBatch(`/api/jobs/${a.build.id}/blobs`, a.token, files.map(filePart));
    expect(first.body.blobs).toEqual([{ hash: file!.hash, size: file!.size, stored: true }]);
    const [pack] = (await packsOf([file!.hash])).values();
    const shared = await env.SITES.head(packKey(pack!));
    const missing = async () =>
      (
        await as(b.token).post<{ missing: string[] }>(`/api/jobs/${b.build.id}/output/missing`, {
          files: describeFiles(files),
        })
      ).body.missing;
    expect(await missing()).toEqual([file!.hash]);

    const path = `/api/jobs/${b.build.id}/blobs`;
    const forged = await postBatch(path, b.token, [
      [file!.hash, new Blob(['x'.repeat(file!.size)])],
    ]);
    expect(forged.status).toBe(400);
    expect(forged.body.error?.message).toMatch(/does not hash to/);
    expect(await missing()).toEqual([file!.hash]);

    const sent = await postBatch(path, b.token, files.map(filePart));
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    expect(sent.body.blobs).toEqual([{ hash: file!.hash, size: file!.size, stored: false }]);
    const after = await env.SITES.head(packKey(pack!));
    expect(after!.version).toBe(shared!.version);
    expect(await packsOf([file!.hash])).toEqual(new Map([[file!.hash, pack]]));
    expect(await missing()).toEqual([]);
  });

  it('stores nothing of a batch with a part that does not hash to its name', async () => {
    const { build, token } = await leasedJob(db, {});
    const files = await outputOf({ 'a.txt': crypto.randomUUID(), 'b.txt': crypto.randomUUID() });
    const [good, bad] = files;
    const answer = await postBatch(`/api/jobs/${build.id}/blobs`, token, [
      filePart(good!),
      [bad!.hash, new Blob(['tampered'])],
    ]);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toContain(bad!.hash);
    const missing = await as(token).post<{ missing: string[] }>(
      `/api/jobs/${build.id}/output/missing`,
      { files: describeFiles(files) },
    );
    expect(missing.body.missing).toEqual([good!.hash, bad!.hash].sort());
    expect(await packsOf([good!.hash, bad!.hash])).toEqual(new Map());
    expect(await env.SITES.head(blobKey(bad!.hash))).toBeNull();
  });

  it('refuses what is not a batch of blobs, naming the part, and batches past its limits', async () => {
    const { build, token } = await leasedJob(db, {});
    const path = `/api/jobs/${build.id}/blobs`;
    const [good, other] = await outputOf({ 'a.txt': crypto.randomUUID(), 'b.txt': 'b' });
    const refusals: [string, [string, Blob | string][], number, RegExp][] = [
      ['wrong content', [[good!.hash, new Blob(['tampered'])]], 400, /does not hash to/],
      ['a text part', [[good!.hash, good!.text]], 400, /send the blob as a file part/],
      ['a bad name', [['index.html', new Blob([good!.text])]], 400, /Name each part by its blob/],
      ['nothing', [], 400, /no blobs|multipart/i],
      [
        'too many parts',
        Array.from({ length: BLOB_BATCH_MAX_BLOBS + 1 }, () => filePart(other!)),
        413,
        new RegExp(`at most ${BLOB_BATCH_MAX_BLOBS} blobs`),
      ],
      [
        'too many bytes',
        [[good!.hash, new Blob([new Uint8Array(BLOB_BATCH_MAX_BYTES)])]],
        413,
        /./,
      ],
    ];
    for (const [what, parts, status, message] of refusals) {
      const answer = await postBatch(path, token, parts);
      expect(answer.status, what).toBe(status);
      expect(answer.body.error?.message, what).toMatch(message);
    }
    expect(await env.SITES.head(blobKey(good!.hash))).toBeNull();
    expect(await packsOf([good!.hash])).toEqual(new Map());

    const json = await fetchWorker(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ [good!.hash]: good!.text }),
    });
    expect(json.status).toBe(415);
    expect(await json.json()).toMatchObject({ error: { message: 'Unsupported Media Type' } });
    expect((await postBatch(path, undefined, [filePart(good!)])).status).toBe(401);
  });

  it('takes a prebuilt output’s batch from a developer of the project, not from a viewer', async () => {
    const { owner, workspace, project } = await projectFixture({ provider: 'none' });
    const viewer = await newUser('viewer');
    await addMember(db, workspace.id, viewer.email, 'viewer');
    const files = await outputOf({ 'index.html': crypto.randomUUID() });
    const path = `/api/projects/${project.id}/uploads/blobs`;
    const refused = await postBatch(path, viewer.access_token, files.map(filePart));
    expect(refused.status).toBe(403);
    const sent = await postBatch(path, owner.access_token, files.map(filePart));
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    expect(sent.body.blobs).toEqual([{ hash: files[0]!.hash, size: files[0]!.size, stored: true }]);
  });
});
