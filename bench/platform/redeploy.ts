import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../report';
import type { Sent } from './counting-proxy';
import type { BenchStack } from './stack';

/** Issue 14's case: an output of 1,000 small files, 9 KiB in all. */
const FILES = 1000;
const buildJs = `
const fs = require('node:fs');
fs.mkdirSync('dist/assets', { recursive: true });
fs.writeFileSync('dist/index.html', '<h1>ok</h1>');
for (let i = 1; i < ${FILES}; i++) fs.writeFileSync('dist/assets/f' + i + '.txt', 'f' + String(i).padStart(6, '0') + '\\n');
`;

/** The runner's requests that publish the build output: the file list, blobs and the manifest. */
const OUTPUT = /^\/api\/jobs\/[^/]+\/(output|blobs)/;

function upload(sent: Sent[]) {
  const output = sent.filter((entry) => OUTPUT.test(entry.path));
  if (output.length === 0) return { bytes: 0, ms: 0, requests: 0 };
  return {
    bytes: output.reduce((sum, entry) => sum + entry.bytes, 0),
    ms:
      Math.max(...output.map((entry) => entry.endedAt)) -
      Math.min(...output.map((entry) => entry.startedAt)),
    requests: output.length,
  };
}

/**
 * (f) what the runner sends to publish a build's output, for the first build of a commit and for
 * a rebuild of the same commit (`retry`: unchanged output), against the output's own size; and
 * how long the first upload takes against copying the same files on this disk.
 */
export async function benchRedeploy(stack: BenchStack, report: Report) {
  const project = await stack.newProject('redeploy', {
    'package.json': JSON.stringify({
      name: 'files',
      private: true,
      scripts: { build: 'node build.js' },
    }),
    'build.js': buildJs,
  });
  const succeeded = (buildId: string) =>
    stack.waitFor(`build ${buildId} to end`, async () => {
      const build = await stack.api<{ status: string; error: string | null }>(
        'GET',
        `/api/builds/${buildId}`,
      );
      if (['failed', 'canceled', 'timed_out'].includes(build.status)) {
        throw new Error(`build ${buildId} ${build.status}: ${build.error}`);
      }
      return build.status === 'succeeded';
    });

  stack.proxy.reset();
  const first = await stack.api<{ id: string }>('POST', `/api/projects/${project.id}/builds`, {});
  await succeeded(first.id);
  const firstUpload = upload(stack.proxy.sent());

  stack.proxy.reset();
  const again = await stack.api<{ id: string }>('POST', `/api/builds/${first.id}/retry`);
  await succeeded(again.id);
  const rebuild = upload(stack.proxy.sent());

  // The output as the build wrote it, rebuilt here to weigh and copy it.
  const dir = await mkdtemp(join(tmpdir(), 'sparki-bench-output-'));
  try {
    await writeFile(join(dir, 'build.js'), buildJs);
    execFileSync('node', ['build.js'], { cwd: dir });
    const entries = await readdir(join(dir, 'dist'), { recursive: true, withFileTypes: true });
    let size = 0;
    for (const entry of entries) {
      if (entry.isFile()) size += (await stat(join(entry.parentPath, entry.name))).size;
    }
    const copying = performance.now();
    await cp(join(dir, 'dist'), join(dir, 'copy'), { recursive: true });
    const copyMs = performance.now() - copying;

    const output = { name: 'the output itself', value: size };
    report.add(
      'f',
      'bytes sent to publish a first build',
      'bytes',
      firstUpload.bytes,
      output,
      `${FILES} files, ${firstUpload.requests} requests`,
    );
    report.add(
      'f',
      'bytes sent to publish a rebuild of the same commit',
      'bytes',
      rebuild.bytes,
      output,
      `${rebuild.requests} requests`,
    );
    report.add('f', `upload of a ${FILES}-file output, first build`, 'ms', firstUpload.ms, {
      name: 'cp -r of the same files',
      value: copyMs,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
