import { isRecord, type Project, scriptEvidence } from '../project';
import { detectToolchain } from '../toolchains';
import type { Decision } from '../types';
import { type Framework, noOutput, port } from './framework';

const HUGO_CONFIGS = ['hugo.toml', 'hugo.yaml', 'hugo.json'];
const LEGACY_HUGO_CONFIGS = ['config.toml', 'config.yaml', 'config.json'];
const HUGO_DIRS = ['content', 'layouts', 'themes', 'archetypes'];

/** `publishDir` from a Hugo config in TOML, YAML or JSON (top-level key). */
function hugoPublishDir(text: string): string | undefined {
  return /^\s*["']?publishDir["']?\s*[:=]\s*["']?([^"'\s,#]+)/im.exec(text)?.[1];
}

const hugo: Framework = {
  name: 'Hugo',
  runtime: 'hugo',
  // Only for the PostCSS / Tailwind tooling some themes need; no package.json, no install.
  ecosystem: 'node',
  async match(project) {
    const config = await project.firstFile(HUGO_CONFIGS);
    if (config) return config.path;
    // config.toml is Hugo's name from before 0.110, too generic to trust on its own.
    const legacy = await project.firstFile(LEGACY_HUGO_CONFIGS);
    if (!legacy || !/baseurl/i.test(legacy.text)) return undefined;
    for (const dir of HUGO_DIRS) {
      if (await project.has(dir)) return `${legacy.path} with baseURL and ${dir}/`;
    }
    return undefined;
  },
  async plan(project, toolchain) {
    const script = await project.script('build');
    const build: Decision<string> =
      script && /\bhugo\b/.test(script)
        ? { value: toolchain.run('build'), evidence: scriptEvidence('build', script) }
        : { value: 'hugo --gc --minify', evidence: 'Hugo’s production build' };
    const config = await project.firstFile([...HUGO_CONFIGS, ...LEGACY_HUGO_CONFIGS]);
    const publishDir = config && hugoPublishDir(config.text);
    return {
      build,
      start: { value: null, evidence: 'Hugo builds static files: nothing to start' },
      output: publishDir
        ? { value: publishDir, evidence: `${config.path} sets publishDir` }
        : { value: 'public', evidence: 'Hugo writes its build to public' },
    };
  },
};

const zola: Framework = {
  name: 'Zola',
  runtime: 'zola',
  ecosystem: null,
  noInstall: 'Zola is a single binary: nothing to install',
  async match(project) {
    const config = await project.read('config.toml');
    return config && /^base_url\s*=/m.test(config) ? 'config.toml with base_url' : undefined;
  },
  async plan(project) {
    const config = (await project.read('config.toml')) ?? '';
    const outputDir = /^output_dir\s*=\s*["']([^"']+)["']/m.exec(config)?.[1];
    return {
      build: { value: 'zola build', evidence: 'Zola’s build' },
      start: { value: null, evidence: 'Zola builds static files: nothing to start' },
      output: outputDir
        ? { value: outputDir, evidence: 'config.toml sets output_dir' }
        : { value: 'public', evidence: 'Zola writes its build to public' },
    };
  },
};

const rust: Framework = {
  name: 'Rust',
  runtime: 'rust',
  ecosystem: 'rust',
  match: async (project) => ((await project.has('Cargo.toml')) ? 'Cargo.toml' : undefined),
  async plan(project) {
    const cargo = (await project.toml('Cargo.toml')) ?? {};
    const bins = Array.isArray(cargo.bin) ? cargo.bin.filter(isRecord) : [];
    const bin = bins.find((entry) => typeof entry.name === 'string')?.name;
    const pkg = isRecord(cargo.package) ? cargo.package.name : undefined;
    const name = typeof bin === 'string' ? bin : typeof pkg === 'string' ? pkg : undefined;
    const locked = (await project.findUp('Cargo.lock')).length > 0;
    return {
      build: {
        value: locked ? 'cargo build --release --locked' : 'cargo build --release',
        evidence: locked ? 'Cargo.lock: build exactly the locked versions' : 'Cargo.toml',
      },
      start: name
        ? {
            value: `./target/release/${name}`,
            evidence: `Cargo.toml ${bin ? '[[bin]]' : '[package]'} name "${name}"`,
          }
        : { value: null, evidence: 'Cargo.toml names no package or binary' },
      output: noOutput('a Rust binary'),
    };
  },
};

async function composerRequires(project: Project, name: string): Promise<boolean> {
  const composer = await project.json('composer.json');
  return isRecord(composer) && isRecord(composer.require) && name in composer.require;
}

const laravel: Framework = {
  name: 'Laravel',
  runtime: 'php',
  ecosystem: 'php',
  async match(project) {
    if (!(await composerRequires(project, 'laravel/framework'))) return undefined;
    return (await project.has('artisan'))
      ? 'composer.json requires "laravel/framework" and artisan'
      : undefined;
  },
  async plan(project, toolchain) {
    // Laravel's front end is built with Vite, so the JS dependencies are installed too.
    const assets = await detectToolchain(project, 'node');
    const script = await project.script('build');
    const phpInstall = toolchain.install.value;
    return {
      install:
        assets.install.value && phpInstall
          ? {
              value: `${phpInstall} && ${assets.install.value}`,
              evidence: `${toolchain.install.evidence}; ${assets.install.evidence}`,
            }
          : toolchain.install,
      build: script
        ? { value: assets.run('build'), evidence: scriptEvidence('build', script) }
        : { value: null, evidence: 'no "build" script in package.json: no assets to build' },
      start: {
        value: `php artisan serve --host=0.0.0.0 --port=${port(8000)}`,
        evidence: 'artisan',
      },
      output: noOutput('Laravel is a server'),
    };
  },
};

const php: Framework = {
  name: 'PHP',
  runtime: 'php',
  ecosystem: 'php',
  async match(project) {
    if (await project.has('composer.json')) return 'composer.json';
    const index = await project.firstFile(['index.php', 'public/index.php']);
    return index?.path;
  },
  async plan(project) {
    const docroot = (await project.has('public/index.php')) ? 'public' : '.';
    return {
      build: { value: null, evidence: 'PHP runs from source' },
      start: {
        value: `php -S 0.0.0.0:${port(8000)} -t ${docroot}`,
        evidence: docroot === 'public' ? 'public/index.php' : 'document root is the project root',
      },
      output: noOutput('PHP is served by a server'),
    };
  },
};

const docker: Framework = {
  name: 'Dockerfile',
  runtime: 'docker',
  ecosystem: null,
  noInstall: 'the Dockerfile installs what the image needs',
  match: async (project) => ((await project.has('Dockerfile')) ? 'Dockerfile' : undefined),
  plan: async () => ({
    build: { value: 'docker build .', evidence: 'Dockerfile' },
    start: { value: null, evidence: 'the image’s own CMD / ENTRYPOINT' },
    output: noOutput('a container image'),
  }),
};

const staticSite: Framework = {
  name: 'Static HTML',
  runtime: 'static',
  ecosystem: null,
  noInstall: 'plain HTML: nothing to install',
  async match(project) {
    return (await project.firstFile(['index.html', 'public/index.html']))?.path;
  },
  async plan(project) {
    const atRoot = await project.has('index.html');
    return {
      build: { value: null, evidence: 'plain HTML: nothing to build' },
      start: { value: null, evidence: 'static files: nothing to start' },
      output: atRoot
        ? { value: '.', evidence: 'index.html in the root directory' }
        : { value: 'public', evidence: 'public/index.html' },
    };
  },
};

export const otherFrameworks = {
  hugo,
  zola,
  rust,
  laravel,
  php,
  docker,
  static: staticSite,
} satisfies Record<string, Framework>;
