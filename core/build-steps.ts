import type { Detection } from './detect';

/** One command a build runs, in order: what a runner reports as a step and `sparki deploy` runs. */
export interface BuildStep {
  id: 'install' | 'build';
  name: string;
  command: string;
}

/**
 * The steps of a build from its detection: install, then build, each only when detection (or
 * sparki.json, or the project's settings) gives it a command. The runner and a local
 * `sparki deploy` run the same ones.
 */
export function buildSteps(
  detection: Pick<Detection, 'installCommand' | 'buildCommand'>,
): BuildStep[] {
  const steps: { id: BuildStep['id']; name: string; command: string | null }[] = [
    { id: 'install', name: 'Install dependencies', command: detection.installCommand.value },
    { id: 'build', name: 'Build', command: detection.buildCommand.value },
  ];
  return steps.flatMap(({ command, ...step }) => (command ? [{ ...step, command }] : []));
}
