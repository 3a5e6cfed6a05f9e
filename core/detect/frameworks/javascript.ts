import { configString, isRecord, type Project } from '../project';
import type { Decision } from '../types';
import { buildCommand, type Framework, startCommand, staticSite } from './framework';
import { configNames, outputDirectory, staticFramework, VITE_CONFIGS } from './node';

/** Vite with one UI library's plugin; the library only changes what the evidence says. */
function viteFramework(name: string, library?: string[]): Framework {
  const framework = staticFramework({
    name,
    packages: ['vite'],
    build: 'vite build',
    output: 'dist',
    flags: ['--outDir'],
    configs: VITE_CONFIGS,
    key: 'outDir',
  });
  if (!library) return framework;
  return {
    ...framework,
    match: async (project) => {
      const vite = await project.dependsOn('vite');
      const plugin = vite && (await project.dependsOn(...library));
      return plugin && `${plugin} with "vite"`;
    },
  };
}

const nextjs: Framework = {
  name: 'Next.js',
  runtime: 'node',
  ecosystem: 'node',
  match: (project) => project.dependsOn('next'),
  async plan(project, toolchain) {
    const build = await buildCommand(project, toolchain, 'Next.js', 'next build');
    const config = await project.firstFile(configNames('next.config'));
    const mode = config && /\boutput\s*:\s*['"](export|standalone)['"]/.exec(config.text)?.[1];
    const distDir = config && configString(config.text, 'distDir');
    if (mode === 'export') {
      // With `output: 'export'` Next.js treats a custom distDir as the export directory.
      const output = distDir ?? 'out';
      return {
        build,
        start: staticSite('Next.js static export'),
        output: { value: output, evidence: `${config!.path} sets output: 'export'` },
      };
    }
    const dir = distDir ?? '.next';
    const output = {
      value: dir,
      evidence: distDir ? `${config!.path} sets distDir: '${dir}'` : 'Next.js builds into .next',
    };
    if (mode === 'standalone') {
      return {
        build,
        output,
        start: {
          value: `node ${dir}/standalone/server.js`,
          evidence: `${config!.path} sets output: 'standalone'`,
        },
      };
    }
    return {
      build,
      output,
      start: await startCommand(project, toolchain, {
        value: toolchain.exec('next start'),
        evidence: 'no "start" script: next start',
      }),
    };
  },
};

const nuxt: Framework = {
  name: 'Nuxt',
  runtime: 'node',
  ecosystem: 'node',
  match: (project) => project.dependsOn('nuxt', 'nuxt3', 'nuxt-edge', 'nuxt-nightly'),
  async plan(project, toolchain) {
    const build = await buildCommand(project, toolchain, 'Nuxt', 'nuxt build');
    if (/\bnuxt\s+generate\b/.test((await project.script('build')) ?? '')) {
      return {
        build,
        start: staticSite('nuxt generate'),
        output: { value: '.output/public', evidence: 'nuxt generate writes .output/public' },
      };
    }
    return {
      build,
      output: { value: '.output', evidence: 'Nuxt (Nitro) builds into .output' },
      start: await startCommand(project, toolchain, {
        value: 'node .output/server/index.mjs',
        evidence: 'no "start" script: the Nitro server entry',
      }),
    };
  },
};

/** Remix and React Router framework mode: `build/client` and `build/server`, SPA mode aside. */
function reactRouterFramework(spec: {
  name: string;
  packages: string[];
  build: string;
  serve: string;
  configs: string[];
  /** Remix before Vite (remix.config.js, no vite.config) put its server at build/index.js. */
  classicEntry?: boolean;
}): Framework {
  return {
    name: spec.name,
    runtime: 'node',
    ecosystem: 'node',
    match: (project) => project.dependsOn(...spec.packages),
    async plan(project, toolchain) {
      const build = await buildCommand(project, toolchain, spec.name, spec.build);
      const config = await project.firstFile(spec.configs);
      if (config && /\bssr\s*:\s*false\b/.test(config.text)) {
        return {
          build,
          start: staticSite(`${spec.name} in SPA mode`),
          output: { value: 'build/client', evidence: `${config.path} sets ssr: false` },
        };
      }
      const classic = spec.classicEntry && !(await project.firstFile(VITE_CONFIGS));
      const entry = classic ? './build/index.js' : './build/server/index.js';
      return {
        build,
        output: { value: 'build', evidence: `${spec.name} builds into build` },
        start: await startCommand(project, toolchain, {
          value: toolchain.exec(`${spec.serve} ${entry}`),
          evidence: `no "start" script: ${spec.serve}`,
        }),
      };
    },
  };
}

const SVELTE_CONFIGS = configNames('svelte.config', ['js', 'mjs', 'ts']);

const sveltekit: Framework = {
  name: 'SvelteKit',
  runtime: 'node',
  ecosystem: 'node',
  match: (project) => project.dependsOn('@sveltejs/kit'),
  async plan(project, toolchain) {
    const build = await buildCommand(project, toolchain, 'SvelteKit', 'vite build');
    const adapterStatic = await project.dependsOn('@sveltejs/adapter-static');
    if (adapterStatic) {
      return {
        build,
        start: staticSite('adapter-static'),
        output: await outputDirectory(project, 'adapter-static', 'build', {
          configs: SVELTE_CONFIGS,
          key: 'pages',
        }),
      };
    }
    if (await project.dependsOn('@sveltejs/adapter-node')) {
      const output = await outputDirectory(project, 'adapter-node', 'build', {
        configs: SVELTE_CONFIGS,
        key: 'out',
      });
      return {
        build,
        output,
        start: { value: `node ${output.value}`, evidence: 'adapter-node writes a Node server' },
      };
    }
    return {
      build,
      output: {
        value: '.svelte-kit',
        evidence: 'no adapter-static or adapter-node: the platform adapter reads .svelte-kit',
      },
      start: { value: null, evidence: 'the platform adapter serves the app: nothing to start' },
    };
  },
};

const astro: Framework = {
  name: 'Astro',
  runtime: 'node',
  ecosystem: 'node',
  match: (project) => project.dependsOn('astro'),
  async plan(project, toolchain) {
    const build = await buildCommand(project, toolchain, 'Astro', 'astro build');
    const output = await outputDirectory(project, 'Astro', 'dist', {
      configs: configNames('astro.config'),
      key: 'outDir',
    });
    const node = await project.dependsOn('@astrojs/node');
    const start = node
      ? {
          value: `node ./${output.value.replace(/^\.\//, '')}/server/entry.mjs`,
          evidence: `${node}: a standalone Node server`,
        }
      : staticSite('Astro without a server adapter');
    return { build, start, output };
  },
};

interface AngularProject {
  name: string;
  builder: string;
  outputPath: unknown;
  ssr: boolean;
}

async function angularProject(project: Project): Promise<AngularProject | undefined> {
  const workspace = await project.json('angular.json');
  if (!isRecord(workspace) || !isRecord(workspace.projects)) return undefined;
  const projects = Object.entries(workspace.projects).filter(
    (entry): entry is [string, Record<string, unknown>] => isRecord(entry[1]),
  );
  const chosen =
    projects.find(([name]) => name === workspace.defaultProject) ??
    projects.find(([, config]) => config.projectType === 'application');
  if (!chosen) return undefined;
  const [name, config] = chosen;
  const architect = isRecord(config.architect) ? config.architect : {};
  const buildTarget = isRecord(architect.build) ? architect.build : {};
  const options = isRecord(buildTarget.options) ? buildTarget.options : {};
  return {
    name,
    builder: typeof buildTarget.builder === 'string' ? buildTarget.builder : '',
    outputPath: options.outputPath,
    ssr: Boolean(options.ssr || options.server),
  };
}

/** Where `ng build` writes the browser files (angular.json `outputPath`, builder-dependent). */
function angularOutput(app: AngularProject): Decision<string> {
  const where = `angular.json project "${app.name}"`;
  // The application builder (Angular 17+) splits output into browser/ and server/ folders.
  const split = app.builder.endsWith(':application');
  if (isRecord(app.outputPath)) {
    const base = String(app.outputPath.base ?? `dist/${app.name}`);
    const browser = typeof app.outputPath.browser === 'string' ? app.outputPath.browser : 'browser';
    return {
      value: browser === '' ? base : `${base}/${browser}`,
      evidence: `${where} outputPath.base/browser`,
    };
  }
  const base = typeof app.outputPath === 'string' ? app.outputPath : `dist/${app.name}`;
  const source = typeof app.outputPath === 'string' ? 'outputPath' : 'default outputPath';
  return split
    ? { value: `${base}/browser`, evidence: `${where} ${source} (${app.builder})` }
    : { value: base, evidence: `${where} ${source}` };
}

/** Angular, or a toolkit on it such as Ionic: `package` and angular.json identify it. */
function angularFramework(name: string, pkg: string): Framework {
  return {
    name,
    runtime: 'node',
    ecosystem: 'node',
    match: async (project) => {
      const core = await project.dependsOn(pkg);
      return core && (await project.has('angular.json')) ? `${core} and angular.json` : undefined;
    },
    async plan(project, toolchain) {
      const build = await buildCommand(project, toolchain, name, 'ng build');
      const app = await angularProject(project);
      if (!app) {
        return {
          build,
          start: staticSite(name),
          output: { value: 'dist', evidence: 'angular.json names no application project' },
        };
      }
      const output = angularOutput(app);
      if (!app.ssr) return { build, output, start: staticSite(name) };
      const script = `serve:ssr:${app.name}`;
      const server = output.value.replace(/\/browser$/, '/server');
      const start = (await project.script(script))
        ? { value: toolchain.run(script), evidence: `package.json script "${script}"` }
        : { value: `node ${server}/server.mjs`, evidence: 'angular.json enables server rendering' };
      return { build, output, start };
    },
  };
}

export const javascriptFrameworks = {
  docusaurus: staticFramework({
    name: 'Docusaurus',
    packages: ['@docusaurus/core'],
    build: 'docusaurus build',
    output: 'build',
    flags: ['--out-dir'],
  }),
  gatsby: staticFramework({
    name: 'Gatsby',
    packages: ['gatsby'],
    build: 'gatsby build',
    output: 'public',
  }),
  nextjs,
  nuxt,
  remix: reactRouterFramework({
    name: 'Remix',
    packages: ['@remix-run/dev'],
    build: 'remix vite:build',
    serve: 'remix-serve',
    configs: VITE_CONFIGS,
    classicEntry: true,
  }),
  'react-router': reactRouterFramework({
    name: 'React Router',
    packages: ['@react-router/dev'],
    build: 'react-router build',
    serve: 'react-router-serve',
    configs: configNames('react-router.config'),
  }),
  sveltekit,
  astro,
  'ionic-angular': angularFramework('Ionic Angular', '@ionic/angular'),
  angular: angularFramework('Angular', '@angular/core'),
  eleventy: staticFramework({
    name: 'Eleventy',
    packages: ['@11ty/eleventy'],
    build: 'eleventy',
    output: '_site',
    flags: ['--output'],
    configs: ['eleventy.config.js', 'eleventy.config.mjs', 'eleventy.config.cjs', '.eleventy.js'],
    key: 'output',
  }),
  'vite-qwik': viteFramework('Vite + Qwik', ['@builder.io/qwik', '@qwik.dev/core']),
  'vite-react': viteFramework('Vite + React', [
    '@vitejs/plugin-react',
    '@vitejs/plugin-react-swc',
    '@vitejs/plugin-react-oxc',
  ]),
  'vite-vue': viteFramework('Vite + Vue', ['@vitejs/plugin-vue']),
  'vite-svelte': viteFramework('Vite + Svelte', ['@sveltejs/vite-plugin-svelte']),
  'vite-solid': viteFramework('Vite + Solid', ['vite-plugin-solid']),
  'vite-preact': viteFramework('Vite + Preact', ['@preact/preset-vite']),
  'vite-lit': viteFramework('Vite + Lit', ['lit']),
  vite: viteFramework('Vite'),
  'create-react-app': staticFramework({
    name: 'Create React App',
    packages: ['react-scripts'],
    build: 'react-scripts build',
    output: 'build',
  }),
} satisfies Record<string, Framework>;
