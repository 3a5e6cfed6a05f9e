import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { OutputFile } from '../../core/build-output';
import {
  Api,
  linkedProject,
  readLink,
  resolveTarget,
  withApiOptions,
  workingTreeRoot,
} from '../client';
import { buildLocally } from '../local-build';
import { ApiRequestError, action, CliError, note, paint, printJson } from '../output';
import {
  blobBatchForm,
  lacksBatchRoute,
  listOutput,
  type OutputApi,
  OutputError,
  type UploadProgress,
  uploadOutput,
} from '../runner/output-upload';
import { formatBytes } from '../runner/units';
import type { Build, Deployment } from '../tables';

/**
 * `sparki deploy [dir]`: the project built here with its detected or configured commands
 * (cli/local-build.ts), or with --prebuilt the directory as it is; then uploaded
 * content-addressed (only the blobs the workspace lacks are sent) through
 * `/api/projects/{id}/uploads/…` and deployed without a runner.
 */

interface Options {
  url?: string;
  token?: string;
  prebuilt?: boolean;
  prod?: boolean;
  project?: string;
  json?: boolean;
  wait: boolean;
  timeout: number;
}

interface Uploaded {
  build: Build;
  deployment: Deployment;
  files: number;
  bytes: number;
}

const SETTLED = new Set(['live', 'failed', 'rolled_back', 'canceled', 'retired']);
const POLL_MS = 1000;

function seconds(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0)
    throw new InvalidArgumentError('not a positive number');
  return number;
}

/** The uploads API as the runner's upload loop (cli/runner/output-upload.ts) calls it. */
function uploadsApi(api: Api, projectId: string, production: boolean) {
  const base = `/api/projects/${projectId}/uploads`;
  let deployed: Uploaded | undefined;
  const calls: OutputApi = {
    missingBlobs: (files: OutputFile[]) =>
      api.request<{ missing: string[]; bytes: number }>('POST', `${base}/missing`, { files }),
    async uploadBlob(hash, path, size) {
      // Node's fetch takes any async iterable of bytes; the Workers types here do not know that.
      await api.upload(
        'PUT',
        `${base}/blobs/${hash}`,
        createReadStream(path) as unknown as BodyInit,
        {
          'content-type': 'application/octet-stream',
          'content-length': String(size),
        },
      );
    },
    async uploadBlobs(blobs) {
      try {
        await api.upload('POST', `${base}/blobs`, await blobBatchForm(blobs), {});
        return true;
      } catch (error) {
        // A platform from before the batch route: one blob per request, as it was.
        if (error instanceof ApiRequestError && lacksBatchRoute(error.status)) return false;
        throw error;
      }
    },
    async commitOutput(files) {
      deployed = await api.request<Uploaded>('POST', `${base}/deploy`, { files, production });
    },
  };
  return { calls, deployed: () => deployed! };
}

/** A bar on a terminal's stderr, redrawn in place; nothing anywhere else. */
function progressBar(stream: NodeJS.WriteStream = process.stderr) {
  const width = 24;
  return (progress: UploadProgress) => {
    if (!stream.isTTY || progress.blobs === 0) return;
    const share = progress.bytes === 0 ? 1 : progress.uploadedBytes / progress.bytes;
    const filled = Math.round(share * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    stream.write(
      `\r\x1b[K[${bar}] ${progress.uploadedBlobs}/${progress.blobs} files, ${formatBytes(progress.uploadedBytes)} of ${formatBytes(progress.bytes)}`,
    );
    if (progress.uploadedBlobs === progress.blobs) stream.write('\n');
  };
}

async function settle(api: Api, deployment: Deployment, timeoutSeconds: number) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let current = deployment;
  while (!SETTLED.has(current.status)) {
    if (Date.now() > deadline) {
      throw new CliError(
        `deployment ${current.id} is still ${current.status} after ${timeoutSeconds}s: see sparki deployments`,
      );
    }
    await new Promise((done) => setTimeout(done, POLL_MS));
    current = await api.get<Deployment>(`/api/deployments/${current.id}`);
  }
  return current;
}

async function target(options: Options): Promise<{ api: Api; projectId: string }> {
  if (!options.project) {
    const { api, link } = await linkedProject(options);
    return { api, projectId: link.project_id };
  }
  const link = await readLink(await workingTreeRoot()).catch(() => null);
  return { api: new Api(await resolveTarget(options, link)), projectId: options.project };
}

export function deployCommand(): Command {
  return withApiOptions(
    new Command('deploy')
      .description(
        'build here with the detected commands (or --prebuilt: take a directory as it is) and deploy the output, uploading only what changed',
      )
      .argument(
        '[dir]',
        'the project to build (default: the working tree, in the project root directory); with --prebuilt, the directory to upload (default: .)',
      )
      .option('--prebuilt', 'upload the directory as it is, without building')
      .option('--prod', 'deploy to production instead of a preview')
      .option('--project <id>', 'another project than the linked one')
      .option('--no-wait', 'print the queued deployment without waiting for it to go live')
      .option('--timeout <seconds>', 'how long to wait for the deployment', seconds, 600)
      .option('--json', 'print the deployment (with an "upload" summary) as JSON'),
  ).action(
    action(async (dir: string | undefined, options: Options) => {
      const { api, projectId } = await target(options);
      const built = options.prebuilt
        ? undefined
        : await buildLocally({ api, projectId, dir, production: Boolean(options.prod) });
      const outputDir = built?.outputDir ?? resolve(dir ?? '.');
      const files = await listOutput(outputDir, (path, why) =>
        note(`skipped ${path}: ${why}`),
      ).catch((error: unknown) => {
        if (error instanceof OutputError) {
          throw new CliError(built ? error.message : error.message.replace(' after the build', ''));
        }
        throw error;
      });
      const uploads = uploadsApi(api, projectId, Boolean(options.prod));
      const bar = progressBar();
      const progress = await uploadOutput(uploads.calls, files, (p) => {
        if (p.uploadedBlobs === 0) {
          note(
            `${p.files} files; ${p.blobs} new (${formatBytes(p.bytes)}) to upload, the rest already stored`,
          );
        }
        bar(p);
      });
      const { build, deployment: queued } = uploads.deployed();
      note(`Build #${build.number} queued deployment ${queued.id} to ${queued.stage}`);
      const deployment = options.wait ? await settle(api, queued, options.timeout) : queued;
      const upload = {
        files: progress.files,
        blobs: progress.uploadedBlobs,
        bytes: progress.uploadedBytes,
      };
      const live = options.wait && deployment.status === 'live';
      // Production serves at the project's own URL; the deployment's is its immutable one.
      const productionUrl =
        live && deployment.stage === 'production'
          ? (await api.get<{ production_url: string | null }>(`/api/projects/${projectId}`))
              .production_url
          : undefined;
      if (options.json) {
        printJson({
          ...deployment,
          build_id: build.id,
          upload,
          ...(built && {
            local_build: {
              framework: built.framework,
              output_directory: built.outputDir,
              steps: built.steps,
            },
          }),
          ...(productionUrl !== undefined && { production_url: productionUrl }),
        });
      }
      if (options.wait && !live) {
        throw new CliError(
          `deployment ${deployment.id} ended ${deployment.status}: see sparki deployments or the dashboard`,
        );
      }
      if (options.json) return;
      if (!options.wait) return note(`Deployment ${deployment.id} is ${deployment.status}`);
      note(`${paint('green', 'Live', process.stderr)} in ${deployment.stage}:`);
      process.stdout.write(`${productionUrl ?? deployment.url ?? ''}\n`);
    }),
  );
}
