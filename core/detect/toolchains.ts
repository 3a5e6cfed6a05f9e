import { DENO_CONFIGS, dotnetProject, javaBuild } from './build-files';
import { EXEC, nodeToolchain, RUN } from './node-toolchain';
import { isRecord, type Project } from './project';
import type { Decision, Ecosystem, PackageManager, PackageManagerName, Toolchain } from './types';

type PythonPackageManager = 'uv' | 'poetry' | 'pdm' | 'pipenv' | 'pip';

async function pythonManager(
  project: Project,
): Promise<Decision<PythonPackageManager> | undefined> {
  const pyproject = await project.toml('pyproject.toml');
  const tool = isRecord(pyproject?.tool) ? pyproject.tool : {};
  if (await project.has('uv.lock')) return { value: 'uv', evidence: 'uv.lock' };
  if (await project.has('poetry.lock')) return { value: 'poetry', evidence: 'poetry.lock' };
  if (await project.has('pdm.lock')) return { value: 'pdm', evidence: 'pdm.lock' };
  if ('poetry' in tool) return { value: 'poetry', evidence: 'pyproject.toml has [tool.poetry]' };
  if ('pdm' in tool) return { value: 'pdm', evidence: 'pyproject.toml has [tool.pdm]' };
  if (await project.has('Pipfile.lock')) return { value: 'pipenv', evidence: 'Pipfile.lock' };
  if (await project.has('Pipfile')) return { value: 'pipenv', evidence: 'Pipfile' };
  if (await project.has('requirements.txt')) return { value: 'pip', evidence: 'requirements.txt' };
  if ('uv' in tool) return { value: 'uv', evidence: 'pyproject.toml has [tool.uv]' };
  if (pyproject) return { value: 'pip', evidence: 'pyproject.toml without a lockfile' };
  if (await project.has('setup.py')) return { value: 'pip', evidence: 'setup.py' };
  return undefined;
}

async function pythonInstall(project: Project, manager: PythonPackageManager) {
  switch (manager) {
    case 'uv':
      return (await project.has('uv.lock'))
        ? { value: 'uv sync --locked', evidence: 'uv.lock: install exactly the locked versions' }
        : { value: 'uv sync', evidence: 'no uv.lock: versions are resolved afresh' };
    case 'poetry':
      // The app is rarely a package of its own: installing it as one fails without a layout.
      return { value: 'poetry install --no-root', evidence: 'dependencies only, not the app' };
    case 'pdm':
      return (await project.has('pdm.lock'))
        ? { value: 'pdm sync --prod', evidence: 'pdm.lock: install exactly the locked versions' }
        : { value: 'pdm install --prod', evidence: 'no pdm.lock: versions are resolved afresh' };
    case 'pipenv':
      return (await project.has('Pipfile.lock'))
        ? { value: 'pipenv install --deploy', evidence: 'Pipfile.lock: fail if it is stale' }
        : { value: 'pipenv install', evidence: 'no Pipfile.lock: versions are resolved afresh' };
    case 'pip':
      return (await project.has('requirements.txt'))
        ? { value: 'pip install -r requirements.txt', evidence: 'requirements.txt' }
        : {
            value: 'pip install .',
            evidence: (await project.has('pyproject.toml'))
              ? 'pyproject.toml dependencies'
              : 'setup.py install_requires',
          };
  }
}

async function pythonToolchain(
  project: Project,
  forced?: Decision<PackageManager>,
): Promise<Toolchain | undefined> {
  const detected = forced ? undefined : await pythonManager(project);
  const manager = (forced?.value.name ?? detected?.value) as PythonPackageManager | undefined;
  if (!manager) return undefined;
  const prefix = manager === 'pip' ? '' : `${manager} run `;
  return {
    packageManager: forced ?? {
      value: { name: manager, version: null },
      evidence: detected!.evidence,
    },
    install: await pythonInstall(project, manager),
    run: (script) => `${prefix}${script}`,
    exec: (command) => `${prefix}${command}`,
  };
}

function simpleToolchain(
  name: PackageManagerName,
  version: string | null,
  evidence: string,
  install: string,
  exec: (command: string) => string = (command) => command,
): Toolchain {
  return {
    packageManager: { value: { name, version }, evidence },
    install: { value: install, evidence },
    run: exec,
    exec,
  };
}

async function rubyToolchain(project: Project): Promise<Toolchain | undefined> {
  if (!(await project.has('Gemfile'))) return undefined;
  const lock = await project.read('Gemfile.lock');
  const bundled = lock && /^BUNDLED WITH\s+(\S+)/m.exec(lock)?.[1];
  return simpleToolchain(
    'bundler',
    bundled || null,
    bundled ? `Gemfile.lock (bundled with ${bundled})` : 'Gemfile',
    'bundle install',
    (command) => `bundle exec ${command}`,
  );
}

async function phpToolchain(project: Project): Promise<Toolchain | undefined> {
  if (!(await project.has('composer.json'))) return undefined;
  const locked = await project.has('composer.lock');
  return simpleToolchain(
    'composer',
    null,
    locked ? 'composer.lock' : 'composer.json',
    'composer install --no-dev --optimize-autoloader --no-interaction',
  );
}

async function goToolchain(project: Project): Promise<Toolchain | undefined> {
  // In a workspace, go mod download fetches what every module of go.work needs.
  const manifest = await project.firstPresent(['go.mod', 'go.work']);
  return manifest ? simpleToolchain('go', null, manifest, 'go mod download') : undefined;
}

async function rustToolchain(project: Project): Promise<Toolchain | undefined> {
  if (!(await project.has('Cargo.toml'))) return undefined;
  const [lock] = await project.findUp('Cargo.lock');
  return lock
    ? simpleToolchain('cargo', null, lock.label, 'cargo fetch --locked')
    : simpleToolchain('cargo', null, 'Cargo.toml without Cargo.lock', 'cargo fetch');
}

async function denoToolchain(project: Project): Promise<Toolchain | undefined> {
  const config = await project.firstPresent(DENO_CONFIGS);
  if (!config) return undefined;
  const locked = await project.has('deno.lock');
  const run = (task: string) => `deno task ${task}`;
  return {
    packageManager: { value: { name: 'deno', version: null }, evidence: config },
    install: locked
      ? { value: 'deno install --frozen', evidence: 'deno.lock: fail if it is stale' }
      : { value: 'deno install', evidence: 'no deno.lock: versions are resolved afresh' },
    run,
    exec: (command) => command,
  };
}

/** The wrapper's pinned version of Maven or Gradle, from its properties file. */
async function wrapperVersion(project: Project, tool: 'maven' | 'gradle') {
  const [path, pattern] =
    tool === 'maven'
      ? ['.mvn/wrapper/maven-wrapper.properties', /apache-maven-([\w.-]+?)-bin\.zip/]
      : ['gradle/wrapper/gradle-wrapper.properties', /gradle-([\w.-]+?)-(?:bin|all)\.zip/];
  const version = pattern.exec((await project.read(path)) ?? '')?.[1];
  return version ? { version, path } : undefined;
}

async function javaToolchain(project: Project): Promise<Toolchain | undefined> {
  const build = await javaBuild(project);
  if (!build) return undefined;
  const pinned = await wrapperVersion(project, build.tool);
  const exec = (args: string) => `${build.command} ${args}`;
  return {
    packageManager: {
      value: { name: build.tool, version: pinned?.version ?? null },
      evidence: pinned ? `${build.manifest}; ${pinned.path}` : build.manifest,
    },
    install:
      build.tool === 'maven'
        ? {
            value: exec('-B dependency:go-offline'),
            evidence: 'pom.xml: fetch plugins and dependencies first',
          }
        : { value: null, evidence: 'Gradle resolves dependencies during the build' },
    run: exec,
    exec,
  };
}

async function dotnetToolchain(project: Project): Promise<Toolchain | undefined> {
  const app = await dotnetProject(project);
  if (!app) return undefined;
  const dir = app.path.includes('/') ? app.path.replace(/\/[^/]*$/, '/') : '';
  const locked = await project.has(`${dir}packages.lock.json`);
  return {
    packageManager: { value: { name: 'dotnet', version: null }, evidence: `${app.path} (NuGet)` },
    install: locked
      ? {
          value: `dotnet restore ${app.path} --locked-mode`,
          evidence: `${dir}packages.lock.json: restore exactly the locked versions`,
        }
      : { value: `dotnet restore ${app.path}`, evidence: `${app.path} package references` },
    run: (command) => command,
    exec: (command) => command,
  };
}

async function elixirToolchain(project: Project): Promise<Toolchain | undefined> {
  if (!(await project.has('mix.exs'))) return undefined;
  const lock = (await project.has('mix.lock')) ? 'mix.lock' : 'mix.exs';
  return simpleToolchain('mix', null, lock, 'mix deps.get --only prod');
}

/**
 * No package manager: nothing to install. Commands still spell tools the npm way, for a
 * framework set by hand on a checkout that lacks its manifest.
 */
export function noToolchain(evidence: string): Toolchain {
  return {
    packageManager: { value: null, evidence },
    install: { value: null, evidence },
    run: RUN.npm,
    exec: EXEC.npm,
  };
}

const MANIFEST: Record<Ecosystem, string> = {
  node: 'package.json',
  deno: 'deno.json',
  python: 'requirements.txt, pyproject.toml, Pipfile or setup.py',
  ruby: 'Gemfile',
  php: 'composer.json',
  go: 'go.mod or go.work',
  rust: 'Cargo.toml',
  java: 'pom.xml or build.gradle',
  dotnet: '.csproj, .fsproj or .vbproj',
  elixir: 'mix.exs',
};

const ECOSYSTEM_OF: Record<PackageManagerName, Ecosystem> = {
  npm: 'node',
  pnpm: 'node',
  yarn: 'node',
  bun: 'node',
  pip: 'python',
  pipenv: 'python',
  poetry: 'python',
  pdm: 'python',
  uv: 'python',
  bundler: 'ruby',
  composer: 'php',
  go: 'go',
  cargo: 'rust',
  deno: 'deno',
  maven: 'java',
  gradle: 'java',
  dotnet: 'dotnet',
  mix: 'elixir',
};

/**
 * The package manager of `ecosystem` and its install command. A `forced` package manager (from
 * sparki.json or project settings) decides the ecosystem itself, and the install command and
 * the way tools are run follow it.
 */
export async function detectToolchain(
  project: Project,
  ecosystem: Ecosystem,
  forced?: Decision<PackageManager>,
): Promise<Toolchain> {
  const chosen = forced ? ECOSYSTEM_OF[forced.value.name] : ecosystem;
  let toolchain: Toolchain | undefined;
  switch (chosen) {
    case 'node':
      if (forced || (await project.packageJson())) toolchain = await nodeToolchain(project, forced);
      break;
    case 'python':
      toolchain = await pythonToolchain(project, forced);
      break;
    case 'ruby':
      toolchain = await rubyToolchain(project);
      break;
    case 'php':
      toolchain = await phpToolchain(project);
      break;
    case 'go':
      toolchain = await goToolchain(project);
      break;
    case 'rust':
      toolchain = await rustToolchain(project);
      break;
    case 'deno':
      toolchain = await denoToolchain(project);
      break;
    case 'java':
      toolchain = await javaToolchain(project);
      break;
    case 'dotnet':
      toolchain = await dotnetToolchain(project);
      break;
    case 'elixir':
      toolchain = await elixirToolchain(project);
      break;
  }
  if (!toolchain) return noToolchain(`no ${MANIFEST[chosen]}`);
  return forced ? { ...toolchain, packageManager: forced } : toolchain;
}
