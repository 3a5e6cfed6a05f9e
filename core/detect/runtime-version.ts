import { dotnetProject } from './build-files';
import { isRecord, type Project } from './project';
import type { Decision, Runtime } from './types';

type Probe = (project: Project) => Promise<Decision<string> | undefined>;

/** First non-empty line that is not a comment. */
function firstLine(text: string): string | undefined {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*/, '').trim())
    .find((line) => line !== '');
}

const withoutV = (line: string) => line.replace(/^v(?=\d)/, '');

/** A version file looked up from the root directory towards the repository root. */
function versionFile(name: string, clean: (line: string) => string = (line) => line): Probe {
  return async (project) => {
    const [found] = await project.findUp(name);
    const text = found && (await project.readInCheckout(found.path));
    const line = text && firstLine(text);
    return line ? { value: clean(line), evidence: found.label } : undefined;
  };
}

/** asdf / mise `.tool-versions`: `nodejs 22.11.0`. */
function toolVersions(tool: string): Probe {
  return async (project) => {
    const [found] = await project.findUp('.tool-versions');
    const text = found && (await project.readInCheckout(found.path));
    const version = text && new RegExp(`^${tool}\\s+(\\S+)`, 'm').exec(text)?.[1];
    return version ? { value: version, evidence: `${found.label} (${tool})` } : undefined;
  };
}

function fileMatch(path: string, pattern: RegExp, what: string): Probe {
  return async (project) => {
    const text = await project.read(path);
    const version = text && pattern.exec(text)?.[1];
    return version ? { value: version, evidence: `${path} ${what}` } : undefined;
  };
}

const PROBES: Record<Runtime, Probe[]> = {
  node: [
    versionFile('.node-version', withoutV),
    versionFile('.nvmrc', withoutV),
    toolVersions('nodejs'),
    async (project) => {
      const pkg = await project.packageJson();
      if (pkg?.volta.node) return { value: pkg.volta.node, evidence: 'package.json "volta.node"' };
      if (pkg?.engines.node) {
        return { value: pkg.engines.node, evidence: 'package.json "engines.node"' };
      }
      return undefined;
    },
  ],
  python: [
    versionFile('.python-version'),
    versionFile('runtime.txt', (line) => line.replace(/^python-/, '')),
    toolVersions('python'),
    async (project) => {
      const pyproject = await project.toml('pyproject.toml');
      const requires = isRecord(pyproject?.project) && pyproject.project['requires-python'];
      if (typeof requires === 'string') {
        return { value: requires, evidence: 'pyproject.toml requires-python' };
      }
      const tool = isRecord(pyproject?.tool) ? pyproject.tool : {};
      const poetry = isRecord(tool.poetry) && tool.poetry.dependencies;
      const python = isRecord(poetry) && poetry.python;
      return typeof python === 'string'
        ? { value: python, evidence: 'pyproject.toml [tool.poetry.dependencies] python' }
        : undefined;
    },
    fileMatch('Pipfile', /^python_version\s*=\s*["']([^"']+)["']/m, 'python_version'),
  ],
  go: [
    // A workspace builds with the Go version of go.work, whatever its modules ask for.
    fileMatch('go.work', /^toolchain\s+go(\S+)/m, 'toolchain'),
    fileMatch('go.work', /^go\s+(\S+)/m, 'go directive'),
    fileMatch('go.mod', /^toolchain\s+go(\S+)/m, 'toolchain'),
    fileMatch('go.mod', /^go\s+(\S+)/m, 'go directive'),
  ],
  rust: [
    fileMatch('rust-toolchain.toml', /^channel\s*=\s*["']([^"']+)["']/m, 'channel'),
    versionFile('rust-toolchain'),
    fileMatch('Cargo.toml', /^rust-version\s*=\s*["']([^"']+)["']/m, 'rust-version'),
  ],
  ruby: [
    versionFile('.ruby-version', (line) => line.replace(/^ruby-/, '')),
    toolVersions('ruby'),
    fileMatch('Gemfile', /^ruby\s+["']([^"']+)["']/m, 'ruby directive'),
  ],
  php: [
    toolVersions('php'),
    async (project) => {
      const composer = await project.json('composer.json');
      const require = isRecord(composer) && composer.require;
      const php = isRecord(require) && require.php;
      return typeof php === 'string'
        ? { value: php, evidence: 'composer.json "require.php"' }
        : undefined;
    },
  ],
  bun: [
    versionFile('.bun-version', withoutV),
    toolVersions('bun'),
    async (project) => {
      const engines = (await project.packageJson())?.engines.bun;
      return engines ? { value: engines, evidence: 'package.json "engines.bun"' } : undefined;
    },
  ],
  deno: [versionFile('.dvmrc', withoutV), toolVersions('deno')],
  java: [
    versionFile('.java-version'),
    async (project) => {
      const text = await project.read('.sdkmanrc');
      const version = text && /^java=(\S+)/m.exec(text)?.[1];
      return version ? { value: version, evidence: '.sdkmanrc java' } : undefined;
    },
    toolVersions('java'),
    fileMatch('system.properties', /^java\.runtime\.version\s*=\s*(\S+)/m, 'java.runtime.version'),
    fileMatch(
      'pom.xml',
      /<(?:java\.version|maven\.compiler\.release|maven\.compiler\.source)>\s*([^<\s]+)\s*</,
      'Java version property',
    ),
    ...['build.gradle.kts', 'build.gradle'].map((file) =>
      fileMatch(
        file,
        /(?:JavaLanguageVersion\.of\(\s*|jvmToolchain\(\s*|sourceCompatibility\s*=\s*(?:JavaVersion\.VERSION_)?['"]?)(\d+(?:[._]\d+)?)/,
        'Java toolchain',
      ),
    ),
  ],
  dotnet: [
    async (project) => {
      const global = await project.json('global.json');
      const sdk = isRecord(global) && isRecord(global.sdk) && global.sdk.version;
      return typeof sdk === 'string'
        ? { value: sdk, evidence: 'global.json sdk.version' }
        : undefined;
    },
    async (project) => {
      const app = await dotnetProject(project);
      const target = app && /<TargetFrameworks?>\s*net(\d+\.\d+)/.exec(app.text)?.[1];
      return target ? { value: target, evidence: `${app.path} TargetFramework` } : undefined;
    },
  ],
  elixir: [
    toolVersions('elixir'),
    fileMatch('mix.exs', /\belixir:\s*"([^"]+)"/, 'elixir requirement'),
  ],
  hugo: [versionFile('.hugo-version'), toolVersions('hugo')],
  zola: [toolVersions('zola')],
  docker: [],
  static: [],
};

const UNPINNED: Record<Runtime, string> = {
  node: 'no .node-version, .nvmrc, .tool-versions or engines.node: the runner default',
  python: 'no .python-version, runtime.txt or requires-python: the runner default',
  go: 'go.mod or go.work has no go directive: the runner default',
  rust: 'no rust-toolchain or rust-version: the runner default',
  ruby: 'no .ruby-version or Gemfile ruby directive: the runner default',
  php: 'no require.php in composer.json: the runner default',
  bun: 'no .bun-version, .tool-versions or engines.bun: the runner default',
  deno: 'no .dvmrc or deno in .tool-versions: the runner default',
  java: 'no .java-version, .sdkmanrc or Java version in pom.xml / build.gradle: the runner default',
  dotnet: 'no global.json sdk.version or TargetFramework: the runner default',
  elixir: 'no elixir in .tool-versions or mix.exs: the runner default',
  hugo: 'no .hugo-version: the runner default',
  zola: 'no zola in .tool-versions: the runner default',
  docker: 'the Dockerfile picks its base images',
  static: 'static files need no runtime',
};

/** The runtime version the project pins, or null with the reason none applies. */
export async function detectRuntimeVersion(
  project: Project,
  runtime: Runtime,
): Promise<Decision<string | null>> {
  for (const probe of PROBES[runtime]) {
    const found = await probe(project);
    if (found) return found;
  }
  return { value: null, evidence: UNPINNED[runtime] };
}
