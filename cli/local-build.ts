import { join, resolve } from 'node:path';
import { type BuildStep, buildSteps } from '../core/build-steps';
import { type Detection, DetectionError, detect, FRAMEWORKS } from '../core/detect';
import { type Api, workingTreeRoot } from './client';
import { fileSystemTree } from './fs-tree';
import { CliError, note, paint } from './output';
import { localStepEnvironment } from './runner/environment';
import { type RunOutcome, runInProcessGroup } from './runner/process-group';

/**
 * `sparki deploy` without --prebuilt: detect the project in the working tree as a runner would
 * (sparki.json, then the project's settings, then the files), run its install and build commands
 * here with their output on stderr, and answer the output directory to upload.
 */

export interface LocalBuildInput {
  api: Api;
  projectId: string;
  /** The directory named on the command line; else the working tree with the project's root dir. */
  dir: string | undefined;
  /** Production's variables, or the preview environment's. */
  production: boolean;
}

export interface LocalBuild {
  outputDir: string;
  framework: string | null;
  steps: (BuildStep & { duration_ms: number })[];
}

interface Settings {
  settings: { overrides: unknown; build_timeout_ms: number; step_timeout_ms: number };
}

interface Environments {
  environments: {
    kind: string;
    name: string;
    variables: { name: string; secret: boolean; value?: string }[];
  }[];
}

/** Why a build stopped before its commands ended on their own. */
type Stop = { kind: 'interrupted' } | { kind: 'timed_out'; limitMs: number };

function seconds(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${(ms / 1000).toFixed(1)} s`;
}

/** Where the build runs, and what detection decided there. */
async function detectProject(input: LocalBuildInput, overrides: unknown, rootDir: string) {
  const source = input.dir === undefined ? await workingTreeRoot() : resolve(input.dir);
  try {
    const detection = await detect(await fileSystemTree(source), {
      rootDir: input.dir === undefined ? rootDir : undefined,
      settings: overrides,
    });
    return { root: join(source, detection.rootDir), detection };
  } catch (error) {
    if (error instanceof DetectionError) throw new CliError(error.message);
    throw error;
  }
}

/** The output directory to upload, or why there is none. */
function outputOf(detection: Detection, root: string): string {
  const output = detection.outputDirectory;
  if (output.value !== null) return join(root, output.value);
  const framework = detection.framework.value;
  const remedy =
    'set outputDirectory (and buildCommand) in sparki.json or the project settings, or build it yourself and run sparki deploy --prebuilt <dir>';
  if (framework === null) {
    throw new CliError(
      `Sparki cannot tell how to build ${root}: ${detection.framework.evidence}; ${remedy}`,
    );
  }
  throw new CliError(
    `${FRAMEWORKS[framework].name} in ${root} has no static output to deploy (${output.evidence}); ${remedy}, or push to build it on a runner`,
  );
}

/** The plain variables of the target environment; secrets are never read back, so named only. */
function variablesOf(environments: Environments, production: boolean): Record<string, string> {
  const target = environments.environments.find(
    (env) => env.kind === (production ? 'production' : 'preview'),
  );
  if (!target) return {};
  const secrets = target.variables.filter((v) => v.secret).map((v) => v.name);
  if (secrets.length > 0) {
    note(
      `The build does not get the secrets of ${target.name} (${secrets.join(', ')}): the platform never hands them back`,
    );
  }
  return Object.fromEntries(
    target.variables.flatMap((v) => (v.secret || v.value === undefined ? [] : [[v.name, v.value]])),
  );
}

function failure(step: BuildStep, outcome: RunOutcome, stepLimitMs: number): CliError {
  if (outcome.kind === 'exited') {
    return new CliError(
      `the ${step.id} command failed with exit code ${outcome.exitCode}: ${step.command}`,
    );
  }
  if (outcome.kind === 'timed_out') {
    return new CliError(
      `the ${step.id} command exceeded its ${seconds(stepLimitMs)} time limit: ${step.command}`,
    );
  }
  const stop = outcome.reason as Stop;
  return stop.kind === 'timed_out'
    ? new CliError(`the build exceeded its ${seconds(stop.limitMs)} time limit`)
    : new CliError('interrupted: the build was stopped');
}

/** Runs the install and build commands in `root`; the first that fails ends the build. */
export async function buildLocally(input: LocalBuildInput): Promise<LocalBuild> {
  const base = `/api/projects/${input.projectId}`;
  const [project, { settings }, environments] = await Promise.all([
    input.api.get<{ root_dir: string }>(base),
    input.api.get<Settings>(`${base}/settings`),
    input.api.get<Environments>(`${base}/environments`),
  ]);
  const { root, detection } = await detectProject(input, settings.overrides, project.root_dir);
  const outputDir = outputOf(detection, root);
  const framework = detection.framework.value;
  note(
    `Building ${root}: ${framework ? FRAMEWORKS[framework].name : 'no framework'} (${detection.framework.evidence})`,
  );
  const env = localStepEnvironment(process.env, variablesOf(environments, input.production));

  const controller = new AbortController();
  const interrupt = () => controller.abort({ kind: 'interrupted' } satisfies Stop);
  const limitMs = settings.build_timeout_ms;
  const deadline = setTimeout(
    () => controller.abort({ kind: 'timed_out', limitMs } satisfies Stop),
    limitMs,
  );
  process.once('SIGINT', interrupt);
  const done: LocalBuild['steps'] = [];
  try {
    for (const step of buildSteps(detection)) {
      note(paint('cyan', `▸ ${step.name}: ${step.command}`, process.stderr));
      const started = Date.now();
      const outcome = await runInProcessGroup(step.command, {
        cwd: root,
        env,
        timeoutMs: settings.step_timeout_ms,
        signal: controller.signal,
        // stdout stays the command's own: the URL or the JSON, nothing else.
        onStdout: (chunk) => process.stderr.write(chunk),
        onStderr: (chunk) => process.stderr.write(chunk),
      });
      const duration_ms = Date.now() - started;
      if (outcome.kind !== 'exited' || outcome.exitCode !== 0) {
        const code = outcome.kind === 'exited' ? ` (exit ${outcome.exitCode})` : '';
        note(paint('red', `✗ ${step.name}${code}`, process.stderr));
        throw failure(step, outcome, settings.step_timeout_ms);
      }
      note(paint('cyan', `✓ ${step.name} (${seconds(duration_ms)})`, process.stderr));
      done.push({ ...step, duration_ms });
    }
  } finally {
    clearTimeout(deadline);
    process.off('SIGINT', interrupt);
  }
  return { outputDir, framework, steps: done };
}
