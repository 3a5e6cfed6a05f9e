import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSystemTree } from '../cli/fs-tree';
import { packCli } from '../cli/pack';
import { detect } from '../core/detect';
import type { Report } from './report';
import { summarize } from './stats';

const ROOT = join(import.meta.dirname, '..');
const FIXTURES = join(ROOT, 'test/fixtures/detect');
const BIN = join(ROOT, 'cli/bin.mjs');

async function timed(runs: number, op: (run: number) => unknown): Promise<number[]> {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await op(run);
    samples.push(performance.now() - started);
  }
  return samples;
}

/**
 * The CLI as a user installs it: `npm run pack:cli`'s package, `npm install -g`'d into a
 * temporary prefix. Returns its entry file and the prefix to remove.
 */
async function installedCli(): Promise<{ entry: string; prefix: string }> {
  const prefix = await mkdtemp(join(tmpdir(), 'sparki-bench-cli-'));
  execFileSync('npm', ['install', '-g', '--prefix', prefix, await packCli(), '--loglevel=error']);
  return { entry: join(prefix, 'lib/node_modules/sparki/sparki.mjs'), prefix };
}

/**
 * (e) `sparki detect` on the fixture repositories, one after another: in process (read the
 * checkout, decide) against reading the checkout alone, and as a command against a bare
 * `node -e ''` (Node's own start-up): the installed CLI (one bundled file), and the
 * repository's own `cli/bin.mjs`, which compiles its TypeScript with tsx as it starts.
 */
export async function benchDetect(report: Report, runs = 2_000) {
  const repositories = (await readdir(FIXTURES))
    .filter((name) => name !== 'invalid-sparki-json')
    .map((name) => join(FIXTURES, name));
  const pick = (run: number) => repositories[run % repositories.length]!;
  const read = summarize(await timed(runs, (run) => fileSystemTree(pick(run))));
  const inProcess = summarize(
    await timed(runs, async (run) => detect(await fileSystemTree(pick(run)))),
  );
  const note = `${repositories.length} fixture repositories, ${runs} runs`;
  const reading = (value: number) => ({ name: 'reading the checkout alone', value });
  report.add('e', 'sparki detect in process, p50', 'ms', inProcess.p50, reading(read.p50), note);
  report.add('e', 'sparki detect in process, p95', 'ms', inProcess.p95, reading(read.p95));

  const commands = 10;
  const node = summarize(await timed(commands, () => execFileSync(process.execPath, ['-e', ''])));
  const nodeBaseline = { name: "node -e ''", value: node.p50 };
  const installed = await installedCli();
  try {
    const command = summarize(
      await timed(commands, (run) =>
        execFileSync(process.execPath, [installed.entry, 'detect', pick(run)]),
      ),
    );
    report.add(
      'e',
      'sparki detect as a command, installed CLI, p50',
      'ms',
      command.p50,
      nodeBaseline,
      `${commands} runs`,
    );
  } finally {
    await rm(installed.prefix, { recursive: true, force: true });
  }
  const inRepository = summarize(
    await timed(commands, (run) => execFileSync(process.execPath, [BIN, 'detect', pick(run)])),
  );
  report.add(
    'e',
    'sparki detect as a command, cli/bin.mjs in this repository (tsx), p50',
    'ms',
    inRepository.p50,
    nodeBaseline,
  );
}
