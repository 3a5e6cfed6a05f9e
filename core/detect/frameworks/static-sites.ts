import type { Framework } from './framework';
import { javascriptFrameworks } from './javascript';
import { buildScript, configNames, outputDirectory, staticFramework } from './node';

/** `<dir>/<site>` for `<command> <dir>` in a build script, e.g. `vitepress build docs`. */
const sourceDirOutput = (command: string, site: string) => (script: string) => {
  const dir = new RegExp(`\\b${command}\\s+(?!-)([^\\s&|;]+)`).exec(script)?.[1];
  return dir ? `${dir.replace(/^\.\/|\/$/g, '') || '.'}/${site}` : site;
};

/**
 * Static-site generators and single-page app tools from the framework list of a mainstream
 * zero-config host, as data. Order within the table does not matter: FRAMEWORK_IDS decides.
 */
export const staticSiteFrameworks = {
  hexo: staticFramework({
    name: 'Hexo',
    packages: ['hexo'],
    build: 'hexo generate',
    output: 'public',
    configs: ['_config.yml'],
    key: 'public_dir',
  }),
  vitepress: staticFramework({
    name: 'VitePress',
    packages: ['vitepress'],
    scripts: ['docs:build', 'build'],
    build: 'vitepress build docs',
    output: 'docs/.vitepress/dist',
    outputOf: sourceDirOutput('vitepress build', '.vitepress/dist'),
  }),
  vuepress: staticFramework({
    name: 'VuePress',
    packages: ['vuepress', 'vuepress-vite', 'vuepress-webpack'],
    scripts: ['docs:build', 'build'],
    build: 'vuepress build docs',
    output: 'docs/.vuepress/dist',
    outputOf: sourceDirOutput('vuepress(?:-vite|-webpack)? build', '.vuepress/dist'),
  }),
  gridsome: staticFramework({
    name: 'Gridsome',
    packages: ['gridsome'],
    build: 'gridsome build',
    output: 'dist',
    configs: ['gridsome.config.js'],
    key: 'outputDir',
  }),
  saber: staticFramework({
    name: 'Saber',
    packages: ['saber'],
    build: 'saber build',
    output: 'public',
  }),
  sanity: staticFramework({
    name: 'Sanity Studio',
    packages: ['sanity'],
    files: configNames('sanity.config', ['ts', 'js', 'tsx', 'jsx']),
    build: 'sanity build',
    output: 'dist',
  }),
  umijs: staticFramework({
    name: 'UmiJS',
    packages: ['umi', '@umijs/max'],
    build: 'umi build',
    output: 'dist',
    configs: ['.umirc.ts', '.umirc.js', 'config/config.ts', 'config/config.js'],
    key: 'outputPath',
  }),
  scully: {
    name: 'Scully',
    runtime: 'node',
    ecosystem: 'node',
    match: (project) => project.dependsOn('@scullyio/init', '@scullyio/scully'),
    async plan(project, toolchain) {
      // Scully renders the routes of an Angular build, so both run, Angular's first.
      const scripts = [
        await buildScript(project, ['build']),
        await buildScript(project, ['scully']),
      ];
      const [build, scully] = scripts;
      const config = (await project.list()).find((name) => /^scully\..+\.config\.ts$/.test(name));
      return {
        build: {
          value: [
            build ? toolchain.run('build') : toolchain.exec('ng build'),
            scully ? toolchain.run('scully') : toolchain.exec('scully'),
          ].join(' && '),
          evidence:
            scripts
              .map((script) => script?.evidence)
              .filter(Boolean)
              .join('; ') || 'no "build" or "scully" script: ng build, then scully',
        },
        start: { value: null, evidence: 'Scully builds static files: nothing to start' },
        output: await outputDirectory(project, 'Scully', 'dist/static', {
          configs: config ? [config] : [],
          key: 'outDir',
        }),
      };
    },
  },
  'ionic-react': {
    name: 'Ionic React',
    runtime: 'node',
    ecosystem: 'node',
    match: (project) => project.dependsOn('@ionic/react'),
    // Ionic React apps are built by Create React App (before Ionic 7) or Vite.
    plan: async (project, toolchain) =>
      ((await project.dependsOn('react-scripts'))
        ? javascriptFrameworks['create-react-app']
        : javascriptFrameworks.vite
      ).plan(project, toolchain),
  },
  stencil: staticFramework({
    name: 'Stencil',
    packages: ['@stencil/core'],
    build: 'stencil build',
    output: 'www',
  }),
  ember: staticFramework({
    name: 'Ember.js',
    packages: ['ember-source', 'ember-cli'],
    build: 'ember build --environment=production',
    output: 'dist',
    flags: ['--output-path', '-o'],
  }),
  dojo: staticFramework({
    name: 'Dojo',
    packages: ['@dojo/framework'],
    build: 'dojo build',
    output: 'output/dist',
  }),
  'preact-cli': staticFramework({
    name: 'Preact CLI',
    packages: ['preact-cli'],
    build: 'preact build',
    output: 'build',
    flags: ['--dest'],
  }),
  'vue-cli': staticFramework({
    name: 'Vue CLI',
    packages: ['@vue/cli-service'],
    build: 'vue-cli-service build',
    output: 'dist',
    flags: ['--dest'],
    configs: ['vue.config.js', 'vue.config.mjs', 'vue.config.cjs'],
    key: 'outputDir',
  }),
  svelte: staticFramework({
    name: 'Svelte',
    // The Svelte 3 template: Rollup bundles into public/, which sirv serves.
    packages: ['svelte'],
    also: ['sirv-cli'],
    build: 'rollup -c',
    output: 'public',
  }),
  parcel: staticFramework({
    name: 'Parcel',
    packages: ['parcel'],
    build: 'parcel build',
    output: 'dist',
    flags: ['--dist-dir'],
  }),
  brunch: staticFramework({
    name: 'Brunch',
    packages: ['brunch'],
    build: 'brunch build --production',
    output: 'public',
  }),
  storybook: staticFramework({
    name: 'Storybook',
    packages: ['storybook'],
    // A `build` script beside Storybook's usually builds the component library itself.
    scripts: ['build-storybook', 'storybook:build'],
    build: 'storybook build',
    output: 'storybook-static',
    flags: ['--output-dir', '-o'],
  }),
} satisfies Record<string, Framework>;
