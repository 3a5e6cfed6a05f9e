import { parseSparkiConfig, parseSparkiJson, type SparkiConfig } from './config';
import { FRAMEWORKS } from './frameworks';
import { parsePackageManager } from './node-toolchain';
import { Project } from './project';
import { detectRuntimeVersion } from './runtime-version';
import { joinPath, normalizePath, type SourceTree } from './source-tree';
import { detectToolchain, noToolchain } from './toolchains';
import {
  type Decision,
  type Detection,
  DetectionError,
  FRAMEWORK_IDS,
  type FrameworkId,
  type Runtime,
} from './types';

export interface DetectOptions {
  /** Subdirectory of a monorepo holding the project; the repository root by default. */
  rootDir?: string;
  /** The project's build settings, same shape as sparki.json; sparki.json wins over them. */
  settings?: unknown;
}

type Overrides = <K extends keyof SparkiConfig>(
  key: K,
) => Decision<Exclude<SparkiConfig[K], undefined>> | undefined;

async function loadOverrides(
  tree: SourceTree,
  rootDir: string,
  settings: unknown,
): Promise<Overrides> {
  const fromSettings =
    settings === undefined ? {} : parseSparkiConfig(settings, 'project settings');
  const text = await tree.read(joinPath(rootDir, 'sparki.json'));
  const fromFile = text === undefined ? {} : parseSparkiJson(text);
  return <K extends keyof SparkiConfig>(key: K) => {
    type Value = Exclude<SparkiConfig[K], undefined>;
    if (fromFile[key] !== undefined)
      return { value: fromFile[key] as Value, evidence: 'sparki.json' };
    if (fromSettings[key] !== undefined) {
      return { value: fromSettings[key] as Value, evidence: 'project settings' };
    }
    return undefined;
  };
}

async function detectFramework(project: Project): Promise<Decision<FrameworkId> | undefined> {
  for (const id of FRAMEWORK_IDS) {
    const evidence = await FRAMEWORKS[id].match(project);
    if (!evidence) continue;
    if (id !== 'docker' && (await project.has('Dockerfile'))) {
      return {
        value: id,
        evidence: `${evidence} (wins over the Dockerfile: set "framework": "docker" to build it)`,
      };
    }
    return { value: id, evidence };
  }
  return undefined;
}

const RUNTIME_NAMES: Record<Runtime, string> = {
  node: 'Node.js',
  python: 'Python',
  go: 'Go',
  rust: 'Rust',
  ruby: 'Ruby',
  php: 'PHP',
  bun: 'Bun',
  deno: 'Deno',
  java: 'the Java virtual machine',
  dotnet: 'the .NET runtime',
  elixir: 'Elixir (the Erlang VM)',
  hugo: 'the Hugo binary',
  zola: 'the Zola binary',
  docker: 'a container runtime',
  static: 'any static file host',
};

const NOTHING =
  'no known framework, package.json, deno.json, Python, Go, Rust, Ruby, PHP, Java, .NET or Elixir manifest, Dockerfile or index.html';

/**
 * Decides how to build the project in `tree`: framework, package manager, commands, output
 * directory and runtime, each with its evidence. Precedence per field: sparki.json, then project
 * settings, then what the files show.
 */
export async function detect(tree: SourceTree, options: DetectOptions = {}): Promise<Detection> {
  const rootDir = normalizePath(options.rootDir ?? '');
  if (rootDir !== '' && !(await tree.exists(rootDir))) {
    throw new DetectionError(`root directory "${rootDir}" does not exist in the repository`);
  }
  const override = await loadOverrides(tree, rootDir, options.settings);
  const project = new Project(tree, rootDir);

  const frameworkDecision = override('framework') ?? (await detectFramework(project));
  const forcedManager = override('packageManager');
  const manager = forcedManager && {
    value: parsePackageManager(forcedManager.value),
    evidence: forcedManager.evidence,
  };
  if (!frameworkDecision) {
    const none = { value: null, evidence: NOTHING };
    return {
      rootDir,
      framework: none,
      packageManager: manager ?? none,
      installCommand: override('installCommand') ?? none,
      buildCommand: override('buildCommand') ?? none,
      startCommand: override('startCommand') ?? none,
      outputDirectory: override('outputDirectory') ?? none,
      runtime: override('runtime') ?? none,
      runtimeVersion: override('runtimeVersion') ?? none,
    };
  }

  const framework = FRAMEWORKS[frameworkDecision.value];
  const toolchain =
    framework.ecosystem || manager
      ? await detectToolchain(project, framework.ecosystem ?? 'node', manager)
      : noToolchain(framework.noInstall ?? `${framework.name} installs nothing`);
  const plan = await framework.plan(project, toolchain);
  const runtime = override('runtime') ??
    plan.runtime ?? {
      value: framework.runtime,
      evidence: `${framework.name} runs on ${RUNTIME_NAMES[framework.runtime]}`,
    };
  return {
    rootDir,
    framework: frameworkDecision,
    packageManager: toolchain.packageManager,
    installCommand: override('installCommand') ?? plan.install ?? toolchain.install,
    buildCommand: override('buildCommand') ?? plan.build,
    startCommand: override('startCommand') ?? plan.start,
    outputDirectory: override('outputDirectory') ?? plan.output,
    runtime,
    runtimeVersion:
      override('runtimeVersion') ?? (await detectRuntimeVersion(project, runtime.value)),
  };
}
