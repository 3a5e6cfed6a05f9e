/**
 * Framework ids in precedence order: detection walks this list and the first match wins.
 * - Server frameworks with a manifest of their own come first: Laravel, Rails, Phoenix, Spring
 *   Boot and Django apps carry a package.json (Vite, jsbundling, Tailwind) that would otherwise
 *   look like a JS app; so do Jekyll and Middleman sites.
 * - Hugo and Zola next: their sites often keep a package.json for PostCSS or Tailwind.
 * - JS meta-frameworks and site generators before the tools they are built on: SvelteKit,
 *   Astro, Nuxt, TanStack Start, VitePress… depend on vite, Docusaurus and Gatsby on react,
 *   Scully and Ionic on Angular; Nitro after the frameworks that build with it.
 * - Vite and the other bundlers, then Storybook, which is as often a dev tool beside an app.
 * - Deno, then Node servers after front-end frameworks, then languages without a framework,
 *   plain PHP, the generic Node app, a Dockerfile and finally a static site.
 */
export const FRAMEWORK_IDS = [
  'laravel',
  'rails',
  'phoenix',
  'spring-boot',
  'jekyll',
  'middleman',
  'django',
  'fastapi',
  'flask',
  'fasthtml',
  'hugo',
  'zola',
  'docusaurus',
  'gatsby',
  'redwoodjs',
  'nextjs',
  'nuxt',
  'remix',
  'react-router',
  'tanstack-start',
  'solidstart',
  'sveltekit',
  'astro',
  'vitepress',
  'vuepress',
  'gridsome',
  'saber',
  'hexo',
  'sanity',
  'umijs',
  'scully',
  'ionic-angular',
  'angular',
  'ionic-react',
  'stencil',
  'ember',
  'dojo',
  'eleventy',
  'nitro',
  'vite-qwik',
  'vite-react',
  'vite-vue',
  'vite-svelte',
  'vite-solid',
  'vite-preact',
  'vite-lit',
  'vite',
  'preact-cli',
  'vue-cli',
  'svelte',
  'create-react-app',
  'parcel',
  'brunch',
  'storybook',
  'deno',
  'mastra',
  'xmcp',
  'nestjs',
  'express',
  'fastify',
  'koa',
  'hono',
  'h3',
  'elysia',
  'go',
  'rust',
  'python',
  'sinatra',
  'rack',
  'java',
  'dotnet',
  'elixir',
  'php',
  'node',
  'docker',
  'static',
] as const;
export type FrameworkId = (typeof FRAMEWORK_IDS)[number];

export const RUNTIMES = [
  'node',
  'bun',
  'deno',
  'python',
  'go',
  'rust',
  'java',
  'dotnet',
  'elixir',
  'ruby',
  'php',
  'hugo',
  'zola',
  'docker',
  'static',
] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const PACKAGE_MANAGERS = [
  'npm',
  'pnpm',
  'yarn',
  'bun',
  'pip',
  'pipenv',
  'poetry',
  'pdm',
  'uv',
  'bundler',
  'composer',
  'go',
  'cargo',
  'deno',
  'maven',
  'gradle',
  'dotnet',
  'mix',
] as const;
export type PackageManagerName = (typeof PACKAGE_MANAGERS)[number];

export interface PackageManager {
  name: PackageManagerName;
  /** Pinned version (package.json `packageManager`, sparki.json), or null for any. */
  version: string | null;
}

/** One decision and the file, field or rule that made it. */
export interface Decision<T> {
  value: T;
  evidence: string;
}

/**
 * What a build of the project runs. Commands run in the root directory; a null command is a
 * step the project does not need. `outputDirectory` is relative to the root directory.
 */
export interface Detection {
  rootDir: string;
  framework: Decision<FrameworkId | null>;
  packageManager: Decision<PackageManager | null>;
  installCommand: Decision<string | null>;
  buildCommand: Decision<string | null>;
  startCommand: Decision<string | null>;
  outputDirectory: Decision<string | null>;
  runtime: Decision<Runtime | null>;
  runtimeVersion: Decision<string | null>;
}

/** A checkout that cannot be read as a project: missing root, malformed manifest. */
export class DetectionError extends Error {
  override name = 'DetectionError';
}

/** Which package manager family a framework installs with. */
export type Ecosystem =
  | 'node'
  | 'deno'
  | 'python'
  | 'ruby'
  | 'php'
  | 'go'
  | 'rust'
  | 'java'
  | 'dotnet'
  | 'elixir';

/** The package manager chosen for a project and how commands are spelled with it. */
export interface Toolchain {
  packageManager: Decision<PackageManager | null>;
  install: Decision<string | null>;
  /** Runs a package.json script: `npm run build`, `yarn build`. */
  run(script: string): string;
  /** Runs a tool the package manager installed: `npx astro build`, `uv run gunicorn …`. */
  exec(command: string): string;
}
