import type { Project } from '../project';
import type { Decision, Toolchain } from '../types';
import { type Framework, noOutput, port } from './framework';

/** Evidence that the Gemfile lists one of `gems`, or undefined. */
async function gemfileLists(project: Project, ...gems: string[]): Promise<string | undefined> {
  const gemfile = await project.read('Gemfile');
  const gem =
    gemfile && gems.find((name) => new RegExp(`^\\s*gem\\s+["']${name}["']`, 'm').test(gemfile));
  return gem ? `Gemfile lists "${gem}"` : undefined;
}

/** A config.ru app: Puma when the Gemfile lists it, else rackup. */
async function rackStart(project: Project, toolchain: Toolchain): Promise<Decision<string>> {
  const puma = await gemfileLists(project, 'puma');
  return puma
    ? { value: toolchain.exec(`puma -p ${port(9292)}`), evidence: `config.ru; ${puma}` }
    : {
        value: toolchain.exec(`rackup -o 0.0.0.0 -p ${port(9292)}`),
        evidence: 'config.ru; Puma is not listed: rackup',
      };
}

const SINATRA_FILES = ['app.rb', 'main.rb', 'server.rb', 'application.rb'];

/** A static site built by a gem: build, then serve the output directory. */
function rubyStaticSite(spec: {
  name: string;
  gems: string[];
  /** A file the site needs besides the gem, e.g. Jekyll's `_config.yml`. */
  marker?: string;
  build: string;
  output: string;
  /** Where the site's config file sets another output directory. */
  outputSetting: { file: string; pattern: RegExp };
}): Framework {
  return {
    name: spec.name,
    runtime: 'ruby',
    ecosystem: 'ruby',
    async match(project) {
      if (spec.marker && !(await project.has(spec.marker))) return undefined;
      const listed = await gemfileLists(project, ...spec.gems);
      return listed && spec.marker ? `${spec.marker} and ${listed}` : listed;
    },
    async plan(project, toolchain) {
      const { file, pattern } = spec.outputSetting;
      const configured = pattern.exec((await project.read(file)) ?? '')?.[1];
      return {
        build: { value: toolchain.exec(spec.build), evidence: `${spec.name}’s production build` },
        start: { value: null, evidence: `${spec.name} builds static files: nothing to start` },
        output: configured
          ? { value: configured, evidence: `${file} sets ${configured}` }
          : { value: spec.output, evidence: `${spec.name} writes its build to ${spec.output}` },
      };
    },
  };
}

export const rubyFrameworks = {
  rails: {
    name: 'Ruby on Rails',
    runtime: 'ruby',
    ecosystem: 'ruby',
    async match(project) {
      const rails = await gemfileLists(project, 'rails');
      if (!rails) return undefined;
      return (await project.has('config/application.rb'))
        ? `${rails} and config/application.rb`
        : undefined;
    },
    async plan(project, toolchain) {
      const application = (await project.read('config/application.rb')) ?? '';
      const apiOnly = /config\.api_only\s*=\s*true/.test(application);
      return {
        build: apiOnly
          ? { value: null, evidence: 'config/application.rb sets api_only: no assets' }
          : {
              value: toolchain.exec('rails assets:precompile'),
              evidence: 'Rails compiles its assets for production',
            },
        start: {
          value: toolchain.exec(`rails server -b 0.0.0.0 -p ${port(3000)}`),
          evidence: 'the Rails server (Puma)',
        },
        output: noOutput('Rails is a server'),
      };
    },
  },
  jekyll: rubyStaticSite({
    name: 'Jekyll',
    gems: ['jekyll', 'github-pages'],
    marker: '_config.yml',
    build: 'jekyll build',
    output: '_site',
    outputSetting: { file: '_config.yml', pattern: /^destination:\s*["']?([^"'\s#]+)/m },
  }),
  middleman: rubyStaticSite({
    name: 'Middleman',
    gems: ['middleman'],
    build: 'middleman build',
    output: 'build',
    outputSetting: { file: 'config.rb', pattern: /^\s*set\s+:build_dir,\s*["']([^"']+)["']/m },
  }),
  sinatra: {
    name: 'Sinatra',
    runtime: 'ruby',
    ecosystem: 'ruby',
    match: (project) => gemfileLists(project, 'sinatra'),
    async plan(project, toolchain) {
      const main = !(await project.has('config.ru')) && (await project.firstPresent(SINATRA_FILES));
      return {
        build: { value: null, evidence: 'Ruby runs from source' },
        // A classic Sinatra app without config.ru serves itself when run.
        start: main
          ? {
              value: toolchain.exec(`ruby ${main} -o 0.0.0.0 -p ${port(4567)}`),
              evidence: `no config.ru: ${main} runs its own server`,
            }
          : await rackStart(project, toolchain),
        output: noOutput('Sinatra is a server'),
      };
    },
  },
  rack: {
    name: 'Rack',
    runtime: 'ruby',
    ecosystem: 'ruby',
    match: (project) => project.firstPresent(['config.ru']),
    plan: async (project, toolchain) => ({
      build: { value: null, evidence: 'Ruby runs from source' },
      start: await rackStart(project, toolchain),
      output: noOutput('a Rack app is a server'),
    }),
  },
} satisfies Record<string, Framework>;
