import type { Project } from '../project';
import { type Framework, noOutput } from './framework';

const mixDepends = async (project: Project, dep: string) =>
  new RegExp(`\\{\\s*:${dep}\\s*,`).test((await project.read('mix.exs')) ?? '');

export const elixirFrameworks = {
  phoenix: {
    name: 'Phoenix',
    runtime: 'elixir',
    ecosystem: 'elixir',
    match: async (project) =>
      (await mixDepends(project, 'phoenix')) ? 'mix.exs depends on :phoenix' : undefined,
    async plan(project) {
      const mix = (await project.read('mix.exs')) ?? '';
      // Phoenix 1.6+ generates an assets.deploy alias: bundle, minify and digest the assets.
      const assets = /["']assets\.deploy["']\s*:/.test(mix);
      return {
        build: assets
          ? {
              value: 'MIX_ENV=prod mix compile && MIX_ENV=prod mix assets.deploy',
              evidence: 'mix.exs has an assets.deploy alias',
            }
          : { value: 'MIX_ENV=prod mix compile', evidence: 'mix.exs has no assets.deploy alias' },
        start: { value: 'MIX_ENV=prod mix phx.server', evidence: 'the Phoenix endpoint' },
        output: noOutput('Phoenix is a server'),
      };
    },
  },
  elixir: {
    name: 'Elixir',
    runtime: 'elixir',
    ecosystem: 'elixir',
    match: (project) => project.firstPresent(['mix.exs']),
    plan: async () => ({
      build: { value: 'MIX_ENV=prod mix compile', evidence: 'mix compiles the project' },
      start: {
        value: 'MIX_ENV=prod mix run --no-halt',
        evidence: 'mix run starts the application and keeps it running',
      },
      output: noOutput('an Elixir app'),
    }),
  },
} satisfies Record<string, Framework>;
