import { scriptEvidence } from '../project';
import { type Framework, noOutput, startCommand } from './framework';
import {
  buildScript,
  builtServer,
  nodeServer,
  optionalBuild,
  serverStart,
  VITE_CONFIGS,
} from './node';

/** Full-stack frameworks that build their own server, and server libraries. */
export const nodeServerFrameworks = {
  redwoodjs: {
    name: 'RedwoodJS',
    runtime: 'node',
    ecosystem: 'node',
    match: (project) => project.dependsOn('@redwoodjs/core'),
    plan: async (_project, toolchain) => ({
      build: {
        value: toolchain.exec('rw build'),
        evidence: 'the Redwood CLI builds the API and web sides',
      },
      start: {
        value: toolchain.exec('rw serve'),
        evidence: 'rw serve serves the API and web/dist',
      },
      output: { value: 'web/dist', evidence: 'Redwood builds the web side into web/dist' },
    }),
  },
  'tanstack-start': {
    name: 'TanStack Start',
    runtime: 'node',
    ecosystem: 'node',
    match: (project) => project.dependsOn('@tanstack/react-start', '@tanstack/solid-start'),
    async plan(project, toolchain) {
      const script = await buildScript(project, ['build']);
      const build = script
        ? { value: toolchain.run('build'), evidence: script.evidence }
        : { value: toolchain.exec('vite build'), evidence: 'no "build" script: vite build' };
      // Before 1.121 Start built with Vinxi, since then with Vite plus the Nitro plugin for a
      // Node server; without either, dist/server holds a fetch handler for a platform adapter.
      const config = await project.firstFile(VITE_CONFIGS);
      const nitro =
        (await project.dependsOn('vinxi')) ??
        (config && /\bnitro(?:V2Plugin)?\s*\(/.test(config.text)
          ? `${config.path} uses the Nitro plugin`
          : undefined);
      if (nitro) {
        return {
          build,
          start: await startCommand(project, toolchain, {
            value: 'node .output/server/index.mjs',
            evidence: `no "start" script: ${nitro} builds .output/server/index.mjs`,
          }),
          output: { value: '.output', evidence: `${nitro}: the server is in .output` },
        };
      }
      return {
        build,
        start: await startCommand(project, toolchain, {
          value: null,
          evidence: 'no Nitro plugin and no "start" script: dist/server needs a platform adapter',
        }),
        output: {
          value: 'dist',
          evidence: 'TanStack Start builds into dist/client and dist/server',
        },
      };
    },
  },
  solidstart: builtServer({
    name: 'SolidStart',
    packages: ['@solidjs/start'],
    build: 'vinxi build',
    output: '.output',
    entry: '.output/server/index.mjs',
  }),
  nitro: builtServer({
    name: 'Nitro',
    packages: ['nitropack', 'nitro'],
    build: 'nitro build',
    output: '.output',
    entry: '.output/server/index.mjs',
  }),
  mastra: builtServer({
    name: 'Mastra',
    packages: ['mastra'],
    build: 'mastra build',
    output: '.mastra/output',
    entry: '.mastra/output/index.mjs',
  }),
  xmcp: builtServer({
    name: 'xmcp',
    packages: ['xmcp'],
    build: 'xmcp build',
    output: 'dist',
    entry: 'dist/http.js',
  }),
  nestjs: {
    name: 'NestJS',
    runtime: 'node',
    ecosystem: 'node',
    match: (project) => project.dependsOn('@nestjs/core'),
    async plan(project, toolchain) {
      const script = await buildScript(project, ['build']);
      // Nest's own `start` compiles first (nest start); `start:prod` runs the build.
      const prod = await project.script('start:prod');
      return {
        build: script
          ? { value: toolchain.run('build'), evidence: script.evidence }
          : { value: toolchain.exec('nest build'), evidence: 'no "build" script: nest build' },
        start: prod
          ? { value: toolchain.run('start:prod'), evidence: scriptEvidence('start:prod', prod) }
          : {
              value: 'node dist/main',
              evidence: 'no "start:prod" script: nest build writes dist/main.js',
            },
        output: noOutput('NestJS is a server'),
      };
    },
  },
  express: nodeServer('Express', ['express']),
  fastify: nodeServer('Fastify', ['fastify']),
  koa: nodeServer('Koa', ['koa']),
  hono: nodeServer('Hono', ['hono']),
  h3: nodeServer('H3', ['h3']),
  elysia: nodeServer('Elysia', ['elysia'], 'bun'),
  node: {
    name: 'Node.js',
    runtime: 'node',
    ecosystem: 'node',
    match: async (project) =>
      (await project.packageJson()) ? 'package.json without a known framework' : undefined,
    async plan(project, toolchain) {
      const { start, runtime } = await serverStart(project, toolchain, 'node');
      return {
        build: await optionalBuild(project, toolchain),
        start,
        output: {
          value: null,
          evidence: 'unknown for a generic Node app: set outputDirectory if it builds a site',
        },
        ...(runtime && { runtime }),
      };
    },
  },
} satisfies Record<string, Framework>;
