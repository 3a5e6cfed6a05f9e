import { resolve } from 'node:path';
import { Command } from 'commander';
import {
  type Decision,
  type Detection,
  DetectionError,
  detect,
  FRAMEWORKS,
  formatPackageManager,
} from '../../core/detect';
import { fileSystemTree } from '../fs-tree';

const NONE = '-';

function rows(detection: Detection): [string, Decision<unknown>, string][] {
  const text = (value: string | null) => value ?? NONE;
  const framework = detection.framework.value;
  const manager = detection.packageManager.value;
  return [
    [
      'framework',
      detection.framework,
      framework ? `${FRAMEWORKS[framework].name} (${framework})` : NONE,
    ],
    ['package manager', detection.packageManager, manager ? formatPackageManager(manager) : NONE],
    ['install', detection.installCommand, text(detection.installCommand.value)],
    ['build', detection.buildCommand, text(detection.buildCommand.value)],
    ['start', detection.startCommand, text(detection.startCommand.value)],
    ['output directory', detection.outputDirectory, text(detection.outputDirectory.value)],
    ['runtime', detection.runtime, text(detection.runtime.value)],
    ['runtime version', detection.runtimeVersion, text(detection.runtimeVersion.value)],
  ];
}

/** The decision as an aligned three-column table: field, value, evidence. */
export function formatDetection(detection: Detection, dir: string): string {
  const table = [
    ['FIELD', 'VALUE', 'EVIDENCE'],
    ...rows(detection).map(([field, decision, value]) => [field, value, decision.evidence]),
  ];
  const widths = [0, 1].map((column) => Math.max(...table.map((row) => row[column]!.length)));
  const root = detection.rootDir ? ` (root directory ${detection.rootDir})` : '';
  return [
    `Sparki detection for ${dir}${root}`,
    '',
    ...table.map(([field, value, evidence]) =>
      `${field!.padEnd(widths[0]!)}  ${value!.padEnd(widths[1]!)}  ${evidence}`.trimEnd(),
    ),
  ].join('\n');
}

export function detectCommand(): Command {
  return new Command('detect')
    .description('print how Sparki would build a checkout, and why')
    .argument('[dir]', 'checkout to inspect', '.')
    .option('--root-dir <path>', 'project directory inside the checkout (monorepos)')
    .option('--json', 'print the decision as JSON')
    .action(async function (
      this: Command,
      dir: string,
      options: { rootDir?: string; json?: boolean },
    ) {
      const path = resolve(dir);
      try {
        const detection = await detect(await fileSystemTree(path), { rootDir: options.rootDir });
        process.stdout.write(
          `${options.json ? JSON.stringify(detection, null, 2) : formatDetection(detection, path)}\n`,
        );
      } catch (error) {
        if (error instanceof DetectionError) this.error(`error: ${error.message}`);
        throw error;
      }
    });
}
