import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileSystemTree } from '../cli/fs-tree';
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
 * (e) `sparki detect` on the fixture repositories, one after another: in process (read the
 * checkout, decide) against reading the checkout alone, and as a command against a bare
 * `node -e ''` (Node's own start-up).
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
  const command = summarize(
    await timed(commands, (run) => execFileSync(process.execPath, [BIN, 'detect', pick(run)])),
  );
  report.add(
    'e',
    'sparki detect as a command, p50',
    'ms',
    command.p50,
    {
      name: "node -e ''",
      value: node.p50,
    },
    `${commands} runs`,
  );
}
