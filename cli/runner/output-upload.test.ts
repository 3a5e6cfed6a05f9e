import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BLOB_BATCH_MAX_BLOBS, BLOB_BATCH_MAX_BYTES } from '../../core/build-output';
import {
  BATCH_MAX_BLOBS,
  BATCH_MAX_BYTES,
  BATCHED_BLOB_MAX_BYTES,
  type BlobSource,
  listOutput,
  type OutputApi,
  uploadOutput,
  uploadRequests,
} from './output-upload';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('listOutput', () => {
  it('lists regular files, never git’s directory nor symbolic links', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparki-output-'));
    await mkdir(join(dir, '.git', 'objects'), { recursive: true });
    await writeFile(join(dir, '.git', 'config'), '[core]\n');
    await writeFile(join(dir, '.git', 'objects', 'ab'), 'blob');
    await mkdir(join(dir, 'vendor', 'lib'), { recursive: true });
    // A submodule or worktree keeps a `.git` file naming its git directory.
    await writeFile(join(dir, 'vendor', 'lib', '.git'), 'gitdir: ../../.git/modules/lib\n');
    await writeFile(join(dir, 'vendor', 'lib', 'lib.js'), 'x');
    await writeFile(join(dir, 'index.html'), '<h1>hi</h1>');
    await writeFile(join(dir, '.gitignore'), 'node_modules\n');
    await symlink('/etc/passwd', join(dir, 'leak'));
    const skipped: string[] = [];
    const files = await listOutput(dir, (path, why) => skipped.push(`${path}: ${why}`));
    expect(files.map((file) => file.path)).toEqual([
      '.gitignore',
      'index.html',
      'vendor/lib/lib.js',
    ]);
    expect(skipped.sort()).toEqual([
      '.git: git’s own directory is not published',
      'leak: symbolic links are not published',
      'vendor/lib/.git: git’s own directory is not published',
    ]);
  });

  it('refuses a directory with nothing to publish', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparki-output-'));
    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await expect(listOutput(dir)).rejects.toThrow(/is empty/);
  });
});

describe('uploadRequests', () => {
  it('keeps a batch inside what the platform takes, multipart framing included', () => {
    expect(BATCH_MAX_BLOBS).toBeLessThanOrEqual(BLOB_BATCH_MAX_BLOBS);
    // ~200 bytes of framing a part at most, well inside the difference.
    expect(BATCH_MAX_BYTES + BATCH_MAX_BLOBS * 200).toBeLessThanOrEqual(BLOB_BATCH_MAX_BYTES);
  });

  const blob = (size: number, name = String(size)) => ({ name, size });

  it('groups small blobs in order, within the count and byte bounds, and sends large ones alone', () => {
    const large = blob(BATCHED_BLOB_MAX_BYTES + 1, 'large');
    const requests = uploadRequests([blob(1, 'a'), large, blob(2, 'b'), blob(3, 'c')]);
    expect(requests.map((request) => request.map((b) => b.name))).toEqual([
      ['large'],
      ['a', 'b', 'c'],
    ]);

    const many = uploadRequests(Array.from({ length: BATCH_MAX_BLOBS * 2 + 1 }, () => blob(10)));
    expect(many.map((request) => request.length)).toEqual([BATCH_MAX_BLOBS, BATCH_MAX_BLOBS, 1]);

    const heavy = uploadRequests(Array.from({ length: 40 }, () => blob(BATCHED_BLOB_MAX_BYTES)));
    for (const request of heavy) {
      expect(request.reduce((sum, b) => sum + b.size, 0)).toBeLessThanOrEqual(BATCH_MAX_BYTES);
    }
    expect(heavy.flat()).toHaveLength(40);
    expect(uploadRequests([])).toEqual([]);
  });
});

describe('uploadOutput', () => {
  async function output(count: number) {
    dir = await mkdtemp(join(tmpdir(), 'sparki-output-'));
    for (let i = 0; i < count; i++) await writeFile(join(dir, `page-${i}.html`), `<p>${i}</p>`);
    return listOutput(dir);
  }

  function recordingApi(batchRoute: boolean) {
    const requests: string[] = [];
    const api: OutputApi = {
      missingBlobs: async (files) => ({
        missing: files.map((file) => file.hash),
        bytes: files.reduce((sum, file) => sum + file.size, 0),
      }),
      uploadBlob: async (hash) => {
        requests.push(`one ${hash.slice(0, 8)}`);
      },
      uploadBlobs: async (blobs: readonly BlobSource[]) => {
        requests.push(`batch of ${blobs.length}`);
        return batchRoute;
      },
      commitOutput: async (files) => {
        requests.push(`commit ${files.length}`);
      },
    };
    return { api, requests };
  }

  it('sends a many-file output in a few batches, reporting progress as each lands', async () => {
    const files = await output(BATCH_MAX_BLOBS + 50);
    const { api, requests } = recordingApi(true);
    const seen: number[] = [];
    const done = await uploadOutput(api, files, (progress) => seen.push(progress.uploadedBlobs));
    const total = BATCH_MAX_BLOBS + 50;
    expect(requests.sort()).toEqual([
      `batch of ${BATCH_MAX_BLOBS}`,
      'batch of 50',
      `commit ${total}`,
    ]);
    expect(done).toMatchObject({ blobs: total, uploadedBlobs: total });
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(total);
  });

  it('falls back to one blob a request against a platform without the batch route', async () => {
    const files = await output(3);
    const { api, requests } = recordingApi(false);
    const done = await uploadOutput(api, files, () => {});
    expect(requests.filter((request) => request.startsWith('batch'))).toEqual(['batch of 3']);
    expect(requests.filter((request) => request.startsWith('one'))).toHaveLength(3);
    expect(done.uploadedBlobs).toBe(3);
  });
});
