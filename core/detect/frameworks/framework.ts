import { type Project, scriptEvidence } from '../project';
import type { Decision, Ecosystem, Runtime, Toolchain } from '../types';

/** What a framework builds and runs, before sparki.json and project settings have their say. */
export interface Plan {
  /** Replaces the package manager's install command (e.g. Laravel installs PHP and JS). */
  install?: Decision<string | null>;
  build: Decision<string | null>;
  start: Decision<string | null>;
  output: Decision<string | null>;
  /** The runtime, when the project picks another than the framework's (Bun for a Node server). */
  runtime?: Decision<Runtime>;
}

export interface Framework {
  name: string;
  runtime: Runtime;
  /** The package manager family; null when the framework installs nothing itself. */
  ecosystem: Ecosystem | null;
  /** Why nothing is installed, when `ecosystem` is null. */
  noInstall?: string;
  /** Evidence that the project uses this framework, or undefined. */
  match(project: Project): Promise<string | undefined>;
  plan(project: Project, toolchain: Toolchain): Promise<Plan>;
}

/** Port a server listens on: the platform's PORT, else the framework's usual one. */
export const port = (fallback: number) => `\${PORT:-${fallback}}`;

/** The package.json `build` script when there is one, else the framework's own build. */
export async function buildCommand(
  project: Project,
  toolchain: Toolchain,
  framework: string,
  fallback: string,
): Promise<Decision<string>> {
  const script = await project.script('build');
  if (script) return { value: toolchain.run('build'), evidence: scriptEvidence('build', script) };
  return { value: toolchain.exec(fallback), evidence: `no "build" script: ${framework}'s build` };
}

/** The package.json `start` script when there is one, else `fallback`. */
export async function startCommand(
  project: Project,
  toolchain: Toolchain,
  fallback: Decision<string | null>,
): Promise<Decision<string | null>> {
  const script = await project.script('start');
  if (script) return { value: toolchain.run('start'), evidence: scriptEvidence('start', script) };
  return fallback;
}

export function staticSite(framework: string): Decision<null> {
  return { value: null, evidence: `${framework} builds static files: nothing to start` };
}

export function noOutput(what: string): Decision<null> {
  return { value: null, evidence: `${what}: no static output directory` };
}

/** The `web` process of a Procfile (Heroku, Dokku, Foreman), as written. */
export async function procfileWeb(project: Project): Promise<string | undefined> {
  const text = await project.read('Procfile');
  return (text && /^web:[ \t]*(\S.*?)\s*$/m.exec(text)?.[1]) || undefined;
}
