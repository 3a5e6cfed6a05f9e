import { configString, flagValue, type Project, scriptEvidence } from '../project';
import type { Decision, Runtime, Toolchain } from '../types';
import { type Framework, noOutput, type Plan, startCommand, staticSite } from './framework';

export const configNames = (base: string, extensions = ['js', 'mjs', 'ts', 'mts', 'cjs', 'cts']) =>
  extensions.map((extension) => `${base}.${extension}`);

export const VITE_CONFIGS = configNames('vite.config');

const withoutDotSlash = (path: string) => path.replace(/^\.\/(?=.)/, '');

/**
 * The output directory a static build writes: a flag in the build script wins over the config
 * file, which wins over the framework's default.
 */
export async function outputDirectory(
  project: Project,
  framework: string,
  fallback: string,
  options: { script?: Script; flags?: string[]; configs?: string[]; key?: string } = {},
): Promise<Decision<string>> {
  const script = options.script ?? (await buildScript(project, ['build']));
  const flagged = flagValue(script?.text, options.flags ?? []);
  if (flagged) return { value: withoutDotSlash(flagged), evidence: script!.evidence };
  if (options.configs && options.key) {
    const config = await project.firstFile(options.configs);
    const configured = config && configValue(config, options.key);
    if (configured) {
      return {
        value: withoutDotSlash(configured),
        evidence: `${config.path} sets ${options.key}: '${configured}'`,
      };
    }
  }
  return { value: fallback, evidence: `${framework} writes its build to ${fallback}` };
}

/** A key's string value in a JS/TS config file, or a top-level key's in a YAML one. */
function configValue(config: { path: string; text: string }, key: string): string | undefined {
  if (!/\.ya?ml$/.test(config.path)) return configString(config.text, key);
  return new RegExp(`^${key}:[ \\t]*["']?([^"'\\s#]+)`, 'm').exec(config.text)?.[1];
}

/** A package.json script that runs the build. */
export interface Script {
  name: string;
  text: string;
  evidence: string;
}

/** The first of `names` that package.json defines. */
export async function buildScript(project: Project, names: string[]): Promise<Script | undefined> {
  for (const name of names) {
    const text = await project.script(name);
    if (text) return { name, text, evidence: scriptEvidence(name, text) };
  }
  return undefined;
}

/** The build script, else the framework's own build: `&&`-joined steps run as installed tools. */
function staticBuild(
  script: Script | undefined,
  toolchain: Toolchain,
  framework: string,
  steps: string[],
): Decision<string> {
  if (script) return { value: toolchain.run(script.name), evidence: script.evidence };
  return {
    value: steps.map((step) => toolchain.exec(step)).join(' && '),
    evidence: `no "build" script: ${framework}'s build`,
  };
}

/** Evidence that package.json depends on one of `packages` and on each of `also`. */
export async function dependsOnAll(
  project: Project,
  packages: string[],
  also: string[] = [],
): Promise<string | undefined> {
  const found = await project.dependsOn(...packages);
  if (!found || also.length === 0) return found;
  for (const name of also) if (!(await project.dependsOn(name))) return undefined;
  return `${found} and ${also.map((name) => `"${name}"`).join(' and ')}`;
}

/**
 * A static-site generator or SPA tool: build, then serve the output directory. Declared as data:
 * which packages (and files) identify it, its build, and where the build writes.
 */
export interface StaticSpec {
  name: string;
  /** package.json depending on any of these identifies the framework... */
  packages: string[];
  /** ...when it also depends on all of these... */
  also?: string[];
  /** ...and one of these files exists. */
  files?: string[];
  /** Build steps when package.json has none of `scripts`, joined with `&&`. */
  build: string | string[];
  /** Scripts that build the site, the first defined wins; `build` by default. */
  scripts?: string[];
  output: string;
  /** Flags of the build command that set the output directory. */
  flags?: string[];
  /** Config files, first found wins, and the key in them that sets the output directory. */
  configs?: string[];
  key?: string;
  /** An output directory that follows from the build command, e.g. its source directory. */
  outputOf?(command: string): string | undefined;
}

export function staticFramework(spec: StaticSpec): Framework {
  return {
    name: spec.name,
    runtime: 'node',
    ecosystem: 'node',
    async match(project) {
      const found = await dependsOnAll(project, spec.packages, spec.also);
      if (!found || !spec.files) return found;
      const file = await project.firstPresent(spec.files);
      return file && `${found} and ${file}`;
    },
    async plan(project, toolchain) {
      const script = await buildScript(project, spec.scripts ?? ['build']);
      const steps = typeof spec.build === 'string' ? [spec.build] : spec.build;
      const derived = spec.outputOf?.(script?.text ?? steps.join(' && '));
      return {
        build: staticBuild(script, toolchain, spec.name, steps),
        start: staticSite(spec.name),
        output: derived
          ? {
              value: derived,
              evidence: script?.evidence ?? `${spec.name}’s build writes ${derived}`,
            }
          : await outputDirectory(project, spec.name, spec.output, { ...spec, script }),
      };
    },
  };
}

/** A server that a framework's build writes as one entry, e.g. Nitro's .output/server/index.mjs. */
export function builtServer(spec: {
  name: string;
  packages: string[];
  build: string;
  output: string;
  entry: string;
}): Framework {
  return {
    name: spec.name,
    runtime: 'node',
    ecosystem: 'node',
    match: (project) => project.dependsOn(...spec.packages),
    plan: async (project, toolchain) => ({
      build: staticBuild(await buildScript(project, ['build']), toolchain, spec.name, [spec.build]),
      start: await startCommand(project, toolchain, {
        value: `node ${spec.entry}`,
        evidence: `no "start" script: the server ${spec.name} builds`,
      }),
      output: { value: spec.output, evidence: `${spec.name} builds into ${spec.output}` },
    }),
  };
}

const entries = (extensions: string[]) =>
  ['server', 'index', 'app', 'src/server', 'src/index', 'src/app'].flatMap((base) =>
    extensions.map((extension) => `${base}.${extension}`),
  );
const NODE_ENTRIES = entries(['js', 'mjs', 'cjs']);
// Bun runs TypeScript as it is.
const BUN_ENTRIES = entries(['ts', 'js', 'mts', 'mjs', 'tsx']);
const RUNS_BUN = /(?:^|[\s;&|(])bunx?\s/;

/** How a server starts, and on which runtime when that is not the framework's own. */
interface Start {
  start: Decision<string | null>;
  runtime?: Decision<Runtime>;
}

/**
 * How a Node or Bun app without a framework-specific server starts: its `start` script, else its
 * `main` / `module` entry or a well-known server file. Bun runs it when the start script calls
 * bun, or when there is no start script and Bun is the runtime or the package manager.
 */
export async function serverStart(
  project: Project,
  toolchain: Toolchain,
  runtime: Runtime,
): Promise<Start> {
  const script = await project.script('start');
  if (script) {
    const start = { value: toolchain.run('start'), evidence: scriptEvidence('start', script) };
    return RUNS_BUN.test(script) && runtime !== 'bun'
      ? { start, runtime: { value: 'bun', evidence: `${start.evidence} runs Bun` } }
      : { start };
  }
  const manager = toolchain.packageManager;
  const bun = runtime === 'bun' || manager.value?.name === 'bun';
  const pkg = await project.packageJson();
  let entry: Decision<string> | undefined;
  for (const field of ['main', 'module'] as const) {
    const path = pkg?.[field];
    if (!entry && path && (await project.has(path))) {
      entry = { value: path, evidence: `package.json "${field}": "${path}"` };
    }
  }
  const found = entry ?? (await project.firstPresent(bun ? BUN_ENTRIES : NODE_ENTRIES));
  if (!found) {
    return {
      start: {
        value: null,
        evidence: `no "start" script, "main" or ${bun ? 'server.ts / index.ts' : 'server.js / index.js'}`,
      },
    };
  }
  const path = typeof found === 'string' ? found : found.value;
  const evidence = typeof found === 'string' ? path : found.evidence;
  const start = { value: `${bun ? 'bun' : 'node'} ${path}`, evidence };
  return runtime !== 'bun' && bun
    ? { start, runtime: { value: 'bun', evidence: `${manager.evidence}: Bun runs the app` } }
    : { start };
}

export async function optionalBuild(
  project: Project,
  toolchain: Toolchain,
): Promise<Decision<string | null>> {
  const script = await project.script('build');
  return script
    ? { value: toolchain.run('build'), evidence: scriptEvidence('build', script) }
    : { value: null, evidence: 'no "build" script: runs from source' };
}

/** A server library: the app is the project's own code, started like any Node app. */
export function nodeServer(name: string, packages: string[], runtime: Runtime = 'node'): Framework {
  return {
    name,
    runtime,
    ecosystem: 'node',
    match: (project) => project.dependsOn(...packages),
    async plan(project, toolchain): Promise<Plan> {
      const { start, runtime: actual } = await serverStart(project, toolchain, runtime);
      return {
        build: await optionalBuild(project, toolchain),
        start,
        output: noOutput(`${name} is a server`),
        ...(actual && { runtime: actual }),
      };
    },
  };
}
