import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type OutputFile, OutputFilesSchema } from '../../core/build-output';
import { formatBytes } from './units';

export class OutputError extends Error {
  override name = 'OutputError';
}

export interface ListedFile extends OutputFile {
  /** Where the runner reads it from; never sent. */
  absolutePath: string;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Inside git's own directory (or its `.git` file, in a worktree) anywhere in the output. */
const inGitDir = (path: string) => /(?:^|\/)\.git(?:\/|$)/.test(path);

/**
 * Every regular file under the output directory with its hash and size. Symbolic links are
 * skipped, never followed: a build must not publish files from outside its checkout (the
 * runner's configuration, other jobs). Nor is `.git` published: an output directory that is the
 * checkout itself (a plain HTML site) would otherwise serve the repository's whole history.
 * Limits are checked here with the platform's own schema, so a build that is too large fails
 * with the reason before any byte is sent.
 */
export async function listOutput(
  outputDir: string,
  onSkip: (path: string, why: string) => void = () => {},
): Promise<ListedFile[]> {
  const info = await stat(outputDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new OutputError(`the output directory ${outputDir} does not exist after the build`);
  }
  const entries = await readdir(outputDir, { recursive: true, withFileTypes: true });
  const files: ListedFile[] = [];
  for (const entry of entries) {
    const absolutePath = join(entry.parentPath, entry.name);
    const path = relative(outputDir, absolutePath).split(sep).join('/');
    if (inGitDir(path)) {
      if (entry.name === '.git') onSkip(path, 'git’s own directory is not published');
      continue;
    }
    if (entry.isSymbolicLink()) onSkip(path, 'symbolic links are not published');
    if (!entry.isFile()) continue;
    const { size } = await stat(absolutePath);
    files.push({ path, absolutePath, size, hash: await sha256(absolutePath) });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  if (files.length === 0) throw new OutputError(`the output directory ${outputDir} is empty`);
  const checked = OutputFilesSchema.safeParse({ files: files.map(describe) });
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const where = issue.path[1] === undefined ? '' : `${files[Number(issue.path[1])]?.path}: `;
    throw new OutputError(`the build output cannot be published: ${where}${issue.message}`);
  }
  return files;
}

/** What the platform is told about a file. */
export function describe({ path, hash, size }: OutputFile): OutputFile {
  return { path, hash, size };
}

/** A blob to send: its hash, where the runner reads it, its size. */
export interface BlobSource {
  hash: string;
  absolutePath: string;
  size: number;
}

export interface OutputApi {
  missingBlobs(files: OutputFile[]): Promise<{ missing: string[]; bytes: number }>;
  uploadBlob(hash: string, path: string, size: number): Promise<void>;
  /** Many small blobs in one request; false when the platform has no batch route (older). */
  uploadBlobs(blobs: readonly BlobSource[]): Promise<boolean>;
  commitOutput(files: OutputFile[]): Promise<void>;
}

/** A platform from before the batch route answers it as an unknown route or method. */
export function lacksBatchRoute(status: number): boolean {
  return status === 404 || status === 405;
}

/** Blobs up to this size travel in batches; a larger one gets a request of its own. */
export const BATCHED_BLOB_MAX_BYTES = 256 * 1024;
/** A batch's own bounds: well inside the platform's (BLOB_BATCH_MAX_*), multipart framing included. */
export const BATCH_MAX_BLOBS = 250;
export const BATCH_MAX_BYTES = 4 * 1024 * 1024;

/**
 * A batch's body: one file part per blob, named by its hash (`POST …/blobs`). The part's file
 * name only makes it a file part; one letter keeps the framing of many tiny files small.
 */
export async function blobBatchForm(blobs: readonly BlobSource[]): Promise<FormData> {
  const form = new FormData();
  for (const blob of blobs) {
    form.append(blob.hash, new Blob([await readFile(blob.absolutePath)]), 'b');
  }
  return form;
}

/**
 * The requests that send `blobs`: the small ones grouped in order into batches within the
 * bounds, each large one alone. One request per blob made a 1,000-file site spend most of its
 * upload on per-request work (authorization, a round trip), not on bytes.
 */
export function uploadRequests<T extends { size: number }>(blobs: readonly T[]): T[][] {
  const requests: T[][] = [];
  let batch: T[] = [];
  let batchBytes = 0;
  for (const blob of blobs) {
    if (blob.size > BATCHED_BLOB_MAX_BYTES) {
      requests.push([blob]);
      continue;
    }
    if (batch.length === BATCH_MAX_BLOBS || batchBytes + blob.size > BATCH_MAX_BYTES) {
      requests.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(blob);
    batchBytes += blob.size;
  }
  if (batch.length > 0) requests.push(batch);
  return requests;
}

export interface UploadProgress {
  files: number;
  /** Distinct contents the platform lacked, and their bytes. */
  blobs: number;
  bytes: number;
  uploadedBlobs: number;
  uploadedBytes: number;
}

const UPLOAD_CONCURRENCY = 4;

/**
 * Asks which blobs the platform lacks, uploads only those (a few requests at a time, small ones
 * many to a request), then commits the file list. An output identical to an earlier build's
 * uploads nothing but the list.
 */
export async function uploadOutput(
  api: OutputApi,
  files: readonly ListedFile[],
  onProgress: (progress: UploadProgress) => void,
): Promise<UploadProgress> {
  const described = files.map(describe);
  const { missing, bytes } = await api.missingBlobs(described);
  const sources = new Map(files.map((file) => [file.hash, file]));
  const progress: UploadProgress = {
    files: files.length,
    blobs: missing.length,
    bytes,
    uploadedBlobs: 0,
    uploadedBytes: 0,
  };
  onProgress({ ...progress });
  const wanted = missing.map((hash) => {
    const source = sources.get(hash);
    if (!source) throw new OutputError(`the platform asked for blob ${hash}, not in the output`);
    return source;
  });
  const queue = uploadRequests(wanted);
  let batches = true;
  const sent = (blobs: readonly BlobSource[]) => {
    progress.uploadedBlobs += blobs.length;
    progress.uploadedBytes += blobs.reduce((sum, blob) => sum + blob.size, 0);
    onProgress({ ...progress });
  };
  const worker = async () => {
    for (let blobs = queue.shift(); blobs !== undefined; blobs = queue.shift()) {
      if (blobs.length > 1 && batches && (await api.uploadBlobs(blobs))) {
        sent(blobs);
        continue;
      }
      if (blobs.length > 1) batches = false;
      for (const blob of blobs) {
        await api.uploadBlob(blob.hash, blob.absolutePath, blob.size);
        sent([blob]);
      }
    }
  };
  await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, worker));
  await api.commitOutput(described);
  return progress;
}

const PROGRESS_EVERY_MS = 2_000;

/** The build log's upload progress: what is to send, then at most a line every 2 s. */
export function progressLines(log: (text: string) => void): (progress: UploadProgress) => void {
  let lastReport = 0;
  return (progress) => {
    const done = progress.uploadedBlobs === progress.blobs;
    if (progress.uploadedBlobs === 0) {
      log(
        `${progress.files} files; ${progress.blobs} new (${formatBytes(progress.bytes)}) to upload, the rest already stored`,
      );
    } else if (done || Date.now() - lastReport >= PROGRESS_EVERY_MS) {
      log(
        `Uploaded ${progress.uploadedBlobs} of ${progress.blobs} (${formatBytes(progress.uploadedBytes)} of ${formatBytes(progress.bytes)})`,
      );
    } else return;
    lastReport = Date.now();
  };
}
