import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatDetection } from '../../cli/commands/detect';
import { fileSystemTree } from '../../cli/fs-tree';
import { type DetectOptions, detect } from './detect';
import { formatPackageManager } from './node-toolchain';
import { type Detection, FRAMEWORK_IDS, type FrameworkId } from './types';

/** The port placeholder of a server's start command. */
const port = (fallback: number) => `\${PORT:-${fallback}}`;

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/detect');

/** Detection on a fixture directory, read through the same SourceTree the CLI uses. */
async function detectFixture(name: string, options?: DetectOptions): Promise<Detection> {
  return detect(await fileSystemTree(join(FIXTURES, name)), options);
}

interface Expected {
  framework: FrameworkId;
  /** The framework decision's evidence, proving which rule matched. */
  because: string;
  packageManager: string | null;
  install: string | null;
  build: string | null;
  start: string | null;
  output: string | null;
  runtime: string;
  runtimeVersion?: string;
}

function summary(detection: Detection): Expected {
  const manager = detection.packageManager.value;
  return {
    framework: detection.framework.value!,
    because: detection.framework.evidence,
    packageManager: manager && formatPackageManager(manager),
    install: detection.installCommand.value,
    build: detection.buildCommand.value,
    start: detection.startCommand.value,
    output: detection.outputDirectory.value,
    runtime: detection.runtime.value!,
    ...(detection.runtimeVersion.value ? { runtimeVersion: detection.runtimeVersion.value } : {}),
  };
}

const NODE_STATIC = { start: null, runtime: 'node' } as const;
const NPM = { packageManager: 'npm', install: 'npm ci', build: 'npm run build' } as const;
const PNPM = {
  packageManager: 'pnpm',
  install: 'pnpm install --frozen-lockfile',
  build: 'pnpm run build',
} as const;
const BUN = {
  packageManager: 'bun',
  install: 'bun install --frozen-lockfile',
  build: 'bun run build',
} as const;
const YARN_CLASSIC = {
  packageManager: 'yarn',
  install: 'yarn install --frozen-lockfile',
  build: 'yarn build',
} as const;

const YARN_BERRY = {
  packageManager: 'yarn@4.4.0',
  install: 'yarn install --immutable',
  build: 'yarn build',
} as const;

const CASES: Record<string, Expected> = {
  nextjs: {
    framework: 'nextjs',
    because: 'package.json depends on "next"',
    ...NPM,
    start: 'npm run start',
    output: '.next',
    runtime: 'node',
    runtimeVersion: '22.12.0',
  },
  'nextjs-static-export': {
    framework: 'nextjs',
    because: 'package.json depends on "next"',
    ...PNPM,
    ...NODE_STATIC,
    output: 'out',
  },
  'vite-vanilla': {
    framework: 'vite',
    because: 'package.json depends on "vite"',
    ...NPM,
    ...NODE_STATIC,
    output: 'dist',
  },
  'vite-react': {
    framework: 'vite-react',
    because: 'package.json depends on "@vitejs/plugin-react" with "vite"',
    ...PNPM,
    ...NODE_STATIC,
    output: 'dist',
  },
  'vite-vue': {
    framework: 'vite-vue',
    because: 'package.json depends on "@vitejs/plugin-vue" with "vite"',
    ...YARN_CLASSIC,
    ...NODE_STATIC,
    output: 'dist',
  },
  'vite-svelte': {
    framework: 'vite-svelte',
    because: 'package.json depends on "@sveltejs/vite-plugin-svelte" with "vite"',
    ...BUN,
    ...NODE_STATIC,
    output: 'dist',
  },
  'vite-solid': {
    framework: 'vite-solid',
    because: 'package.json depends on "vite-plugin-solid" with "vite"',
    packageManager: 'yarn@4.9.2',
    install: 'yarn install --immutable',
    build: 'yarn build',
    ...NODE_STATIC,
    output: 'dist',
  },
  'vite-preact': {
    framework: 'vite-preact',
    because: 'package.json depends on "@preact/preset-vite" with "vite"',
    ...NPM,
    ...NODE_STATIC,
    output: 'build',
  },
  'vite-lit': {
    framework: 'vite-lit',
    because: 'package.json depends on "lit" with "vite"',
    ...BUN,
    ...NODE_STATIC,
    output: 'dist',
  },
  'vite-qwik': {
    framework: 'vite-qwik',
    because: 'package.json depends on "@builder.io/qwik" with "vite"',
    ...NPM,
    ...NODE_STATIC,
    output: 'dist',
  },
  astro: {
    framework: 'astro',
    because: 'package.json depends on "astro"',
    ...NPM,
    ...NODE_STATIC,
    output: 'dist',
    runtimeVersion: '22.12.0',
  },
  'astro-node': {
    framework: 'astro',
    because: 'package.json depends on "astro"',
    ...PNPM,
    start: 'node ./dist/server/entry.mjs',
    output: 'dist',
    runtime: 'node',
  },
  sveltekit: {
    framework: 'sveltekit',
    because: 'package.json depends on "@sveltejs/kit"',
    ...PNPM,
    ...NODE_STATIC,
    output: '.svelte-kit',
  },
  'sveltekit-static': {
    framework: 'sveltekit',
    because: 'package.json depends on "@sveltejs/kit"',
    ...NPM,
    ...NODE_STATIC,
    output: 'build',
  },
  nuxt: {
    framework: 'nuxt',
    because: 'package.json depends on "nuxt"',
    ...NPM,
    start: 'node .output/server/index.mjs',
    output: '.output',
    runtime: 'node',
  },
  remix: {
    framework: 'remix',
    because: 'package.json depends on "@remix-run/dev"',
    ...NPM,
    start: 'npm run start',
    output: 'build',
    runtime: 'node',
    runtimeVersion: '>=20.0.0',
  },
  'react-router': {
    framework: 'react-router',
    because: 'package.json depends on "@react-router/dev"',
    ...NPM,
    start: 'npm run start',
    output: 'build',
    runtime: 'node',
  },
  angular: {
    framework: 'angular',
    because: 'package.json depends on "@angular/core" and angular.json',
    ...NPM,
    ...NODE_STATIC,
    output: 'dist/shop/browser',
  },
  gatsby: {
    framework: 'gatsby',
    because: 'package.json depends on "gatsby"',
    ...NPM,
    ...NODE_STATIC,
    output: 'public',
  },
  docusaurus: {
    framework: 'docusaurus',
    because: 'package.json depends on "@docusaurus/core"',
    ...YARN_CLASSIC,
    ...NODE_STATIC,
    output: 'build',
    runtimeVersion: '>=20.0',
  },
  eleventy: {
    framework: 'eleventy',
    because: 'package.json depends on "@11ty/eleventy"',
    ...NPM,
    ...NODE_STATIC,
    output: 'dist',
  },
  'create-react-app': {
    framework: 'create-react-app',
    because: 'package.json depends on "react-scripts"',
    ...NPM,
    ...NODE_STATIC,
    output: 'build',
  },
  hexo: {
    framework: 'hexo',
    because: 'package.json depends on "hexo"',
    ...NPM,
    ...NODE_STATIC,
    output: 'site',
  },
  vitepress: {
    framework: 'vitepress',
    because: 'package.json depends on "vitepress"',
    ...PNPM,
    build: 'pnpm run docs:build',
    ...NODE_STATIC,
    output: 'docs/.vitepress/dist',
  },
  vuepress: {
    framework: 'vuepress',
    because: 'package.json depends on "vuepress"',
    ...YARN_CLASSIC,
    build: 'yarn docs:build',
    ...NODE_STATIC,
    output: 'src/.vuepress/dist',
  },
  'preact-cli': {
    framework: 'preact-cli',
    because: 'package.json depends on "preact-cli"',
    ...NPM,
    ...NODE_STATIC,
    output: 'build',
  },
  dojo: {
    framework: 'dojo',
    because: 'package.json depends on "@dojo/framework"',
    ...NPM,
    ...NODE_STATIC,
    output: 'output/dist',
  },
  ember: {
    framework: 'ember',
    because: 'package.json depends on "ember-source"',
    ...PNPM,
    ...NODE_STATIC,
    output: 'dist',
    runtimeVersion: '>= 18',
  },
  'vue-cli': {
    framework: 'vue-cli',
    because: 'package.json depends on "@vue/cli-service"',
    ...YARN_CLASSIC,
    ...NODE_STATIC,
    output: 'dist/admin',
  },
  scully: {
    framework: 'scully',
    because: 'package.json depends on "@scullyio/init"',
    ...NPM,
    build: 'npm run build && npm run scully',
    ...NODE_STATIC,
    output: 'dist/static',
  },
  'ionic-angular': {
    framework: 'ionic-angular',
    because: 'package.json depends on "@ionic/angular" and angular.json',
    ...NPM,
    ...NODE_STATIC,
    output: 'www',
  },
  'ionic-react': {
    framework: 'ionic-react',
    because: 'package.json depends on "@ionic/react"',
    ...NPM,
    ...NODE_STATIC,
    output: 'dist',
  },
  'svelte-rollup': {
    framework: 'svelte',
    because: 'package.json depends on "svelte" and "sirv-cli"',
    ...NPM,
    ...NODE_STATIC,
    output: 'public',
  },
  gridsome: {
    framework: 'gridsome',
    because: 'package.json depends on "gridsome"',
    ...YARN_CLASSIC,
    ...NODE_STATIC,
    output: 'dist',
  },
  umijs: {
    framework: 'umijs',
    because: 'package.json depends on "umi"',
    ...PNPM,
    ...NODE_STATIC,
    output: 'build',
  },
  saber: {
    framework: 'saber',
    because: 'package.json depends on "saber"',
    ...YARN_CLASSIC,
    ...NODE_STATIC,
    output: 'public',
  },
  stencil: {
    framework: 'stencil',
    because: 'package.json depends on "@stencil/core"',
    ...NPM,
    ...NODE_STATIC,
    output: 'www',
  },
  brunch: {
    framework: 'brunch',
    because: 'package.json depends on "brunch"',
    ...NPM,
    ...NODE_STATIC,
    output: 'public',
  },
  parcel: {
    framework: 'parcel',
    because: 'package.json depends on "parcel"',
    ...NPM,
    ...NODE_STATIC,
    output: 'public',
  },
  storybook: {
    framework: 'storybook',
    because: 'package.json depends on "storybook"',
    ...PNPM,
    build: 'pnpm run build-storybook',
    ...NODE_STATIC,
    output: 'storybook-static',
  },
  sanity: {
    framework: 'sanity',
    because: 'package.json depends on "sanity" and sanity.config.ts',
    ...NPM,
    ...NODE_STATIC,
    output: 'dist',
  },
  redwoodjs: {
    framework: 'redwoodjs',
    because: 'package.json depends on "@redwoodjs/core"',
    ...YARN_BERRY,
    build: 'yarn rw build',
    start: 'yarn rw serve',
    output: 'web/dist',
    runtime: 'node',
    runtimeVersion: '20',
  },
  'tanstack-start': {
    framework: 'tanstack-start',
    because: 'package.json depends on "@tanstack/react-start"',
    ...PNPM,
    build: 'pnpm run build',
    start: 'pnpm run start',
    output: '.output',
    runtime: 'node',
  },
  solidstart: {
    framework: 'solidstart',
    because: 'package.json depends on "@solidjs/start"',
    ...NPM,
    build: 'npm run build',
    start: 'npm run start',
    output: '.output',
    runtime: 'node',
    runtimeVersion: '>=22',
  },
  nitro: {
    framework: 'nitro',
    because: 'package.json depends on "nitropack"',
    ...NPM,
    build: 'npm run build',
    start: 'node .output/server/index.mjs',
    output: '.output',
    runtime: 'node',
  },
  mastra: {
    framework: 'mastra',
    because: 'package.json depends on "mastra"',
    ...NPM,
    build: 'npm run build',
    start: 'npm run start',
    output: '.mastra/output',
    runtime: 'node',
    runtimeVersion: '>=20.9.0',
  },
  xmcp: {
    framework: 'xmcp',
    because: 'package.json depends on "xmcp"',
    ...PNPM,
    build: 'pnpm run build',
    start: 'pnpm run start',
    output: 'dist',
    runtime: 'node',
  },
  nestjs: {
    framework: 'nestjs',
    because: 'package.json depends on "@nestjs/core"',
    ...NPM,
    build: 'npm run build',
    start: 'npm run start:prod',
    output: null,
    runtime: 'node',
    runtimeVersion: '22.12.0',
  },
  koa: {
    framework: 'koa',
    because: 'package.json depends on "koa"',
    ...YARN_CLASSIC,
    build: null,
    start: 'node src/index.js',
    output: null,
    runtime: 'node',
  },
  h3: {
    framework: 'h3',
    because: 'package.json depends on "h3"',
    ...NPM,
    build: null,
    start: 'node server.mjs',
    output: null,
    runtime: 'node',
  },
  elysia: {
    framework: 'elysia',
    because: 'package.json depends on "elysia"',
    ...BUN,
    build: null,
    start: 'bun src/index.ts',
    output: null,
    runtime: 'bun',
    runtimeVersion: '1.2.2',
  },
  fasthtml: {
    framework: 'fasthtml',
    because: 'requirements.txt lists "python-fasthtml"',
    packageManager: 'pip',
    install: 'pip install -r requirements.txt',
    build: null,
    start: `uvicorn main:app --host 0.0.0.0 --port ${port(5001)}`,
    output: null,
    runtime: 'python',
    runtimeVersion: '3.12',
  },
  zola: {
    framework: 'zola',
    because: 'config.toml with base_url',
    packageManager: null,
    install: null,
    build: 'zola build',
    start: null,
    output: 'dist',
    runtime: 'zola',
    runtimeVersion: '0.19.2',
  },
  hugo: {
    framework: 'hugo',
    because: 'hugo.toml',
    packageManager: null,
    install: null,
    build: 'hugo --gc --minify',
    start: null,
    output: 'public',
    runtime: 'hugo',
  },
  'static-html': {
    framework: 'static',
    because: 'index.html',
    packageManager: null,
    install: null,
    build: null,
    start: null,
    output: '.',
    runtime: 'static',
  },
  express: {
    framework: 'express',
    because: 'package.json depends on "express"',
    packageManager: 'npm',
    install: 'npm ci',
    build: null,
    start: 'npm run start',
    output: null,
    runtime: 'node',
  },
  fastify: {
    framework: 'fastify',
    because: 'package.json depends on "fastify"',
    packageManager: 'pnpm',
    install: 'pnpm install --frozen-lockfile',
    build: null,
    start: 'pnpm run start',
    output: null,
    runtime: 'node',
  },
  hono: {
    framework: 'hono',
    because: 'package.json depends on "hono"',
    ...BUN,
    start: 'bun run start',
    output: null,
    runtime: 'node',
  },
  django: {
    framework: 'django',
    because: 'manage.py and requirements.txt lists "django"',
    packageManager: 'pip',
    install: 'pip install -r requirements.txt',
    build: 'python manage.py collectstatic --noinput',
    start: `gunicorn mysite.wsgi --bind 0.0.0.0:${port(8000)}`,
    output: null,
    runtime: 'python',
    runtimeVersion: '3.12',
  },
  flask: {
    framework: 'flask',
    because: 'pyproject.toml lists "flask"',
    packageManager: 'poetry',
    install: 'poetry install --no-root',
    build: null,
    start: `poetry run gunicorn app:app --bind 0.0.0.0:${port(8000)}`,
    output: null,
    runtime: 'python',
    runtimeVersion: '^3.11',
  },
  fastapi: {
    framework: 'fastapi',
    because: 'pyproject.toml lists "fastapi"',
    packageManager: 'uv',
    install: 'uv sync --locked',
    build: null,
    start: `uv run uvicorn main:app --host 0.0.0.0 --port ${port(8000)}`,
    output: null,
    runtime: 'python',
    runtimeVersion: '3.13',
  },
  'python-procfile': {
    framework: 'python',
    because: 'requirements.txt without a known framework',
    packageManager: 'pip',
    install: 'pip install -r requirements.txt',
    build: null,
    start: 'gunicorn app:app --workers 2 --bind 0.0.0.0:$PORT',
    output: null,
    runtime: 'python',
    runtimeVersion: '3.12.8',
  },
  'python-pipenv': {
    framework: 'python',
    because: 'Pipfile without a known framework',
    packageManager: 'pipenv',
    install: 'pipenv install --deploy',
    build: null,
    start: `pipenv run uvicorn main:app --host 0.0.0.0 --port ${port(8000)}`,
    output: null,
    runtime: 'python',
    runtimeVersion: '3.11',
  },
  'python-pdm': {
    framework: 'python',
    because: 'pyproject.toml without a known framework',
    packageManager: 'pdm',
    install: 'pdm sync --prod',
    build: null,
    start: `pdm run uvicorn app:app --host 0.0.0.0 --port ${port(8000)}`,
    output: null,
    runtime: 'python',
    runtimeVersion: '>=3.12',
  },
  'python-setup-py': {
    framework: 'python',
    because: 'setup.py without a known framework',
    packageManager: 'pip',
    install: 'pip install .',
    build: null,
    start: 'python main.py',
    output: null,
    runtime: 'python',
    runtimeVersion: '3.12',
  },
  go: {
    framework: 'go',
    because: 'go.mod',
    packageManager: 'go',
    install: 'go mod download',
    build: 'go build -o ./bin/app ./cmd/api',
    start: './bin/app',
    output: null,
    runtime: 'go',
    runtimeVersion: '1.23.4',
  },
  'go-workspace': {
    framework: 'go',
    because: 'go.work',
    packageManager: 'go',
    install: 'go mod download',
    build: 'go build -o ./bin/app ./services/api',
    start: './bin/app',
    output: null,
    runtime: 'go',
    runtimeVersion: '1.24.2',
  },
  rust: {
    framework: 'rust',
    because: 'Cargo.toml',
    packageManager: 'cargo',
    install: 'cargo fetch --locked',
    build: 'cargo build --release --locked',
    start: './target/release/api',
    output: null,
    runtime: 'rust',
    runtimeVersion: '1.82',
  },
  rails: {
    framework: 'rails',
    because: 'Gemfile lists "rails" and config/application.rb',
    packageManager: 'bundler@2.6.9',
    install: 'bundle install',
    build: 'bundle exec rails assets:precompile',
    start: `bundle exec rails server -b 0.0.0.0 -p ${port(3000)}`,
    output: null,
    runtime: 'ruby',
    runtimeVersion: '3.3.6',
  },
  sinatra: {
    framework: 'sinatra',
    because: 'Gemfile lists "sinatra"',
    packageManager: 'bundler@2.5.22',
    install: 'bundle install',
    build: null,
    start: `bundle exec puma -p ${port(9292)}`,
    output: null,
    runtime: 'ruby',
    runtimeVersion: '3.3.6',
  },
  rack: {
    framework: 'rack',
    because: 'config.ru',
    packageManager: 'bundler@2.6.2',
    install: 'bundle install',
    build: null,
    start: `bundle exec rackup -o 0.0.0.0 -p ${port(9292)}`,
    output: null,
    runtime: 'ruby',
    runtimeVersion: '3.4.1',
  },
  jekyll: {
    framework: 'jekyll',
    because: '_config.yml and Gemfile lists "jekyll"',
    packageManager: 'bundler@2.5.22',
    install: 'bundle install',
    build: 'bundle exec jekyll build',
    start: null,
    output: 'public',
    runtime: 'ruby',
    runtimeVersion: '3.2.6',
  },
  middleman: {
    framework: 'middleman',
    because: 'Gemfile lists "middleman"',
    packageManager: 'bundler@2.4.19',
    install: 'bundle install',
    build: 'bundle exec middleman build',
    start: null,
    output: 'build',
    runtime: 'ruby',
    runtimeVersion: '3.3.6',
  },
  bun: {
    framework: 'node',
    because: 'package.json without a known framework',
    ...BUN,
    build: null,
    start: 'bun index.ts',
    output: null,
    runtime: 'bun',
    runtimeVersion: '1.2.4',
  },
  deno: {
    framework: 'deno',
    because: 'deno.json',
    packageManager: 'deno',
    install: 'deno install --frozen',
    build: null,
    start: 'deno task start',
    output: null,
    runtime: 'deno',
    runtimeVersion: '2.1.4',
  },
  'spring-boot': {
    framework: 'spring-boot',
    because: 'pom.xml uses spring-boot-starter-parent',
    packageManager: 'maven@3.9.9',
    install: './mvnw -B dependency:go-offline',
    build: './mvnw -B -DskipTests package',
    start: `java -Dserver.port=${port(8080)} -jar target/demo-0.0.1-SNAPSHOT.jar`,
    output: null,
    runtime: 'java',
    runtimeVersion: '21',
  },
  'spring-boot-gradle': {
    framework: 'spring-boot',
    because: 'build.gradle.kts applies org.springframework.boot',
    packageManager: 'gradle@8.11.1',
    install: null,
    build: './gradlew build -x test',
    start: `java -Dserver.port=${port(8080)} -jar build/libs/inventory-0.0.1-SNAPSHOT.jar`,
    output: null,
    runtime: 'java',
    runtimeVersion: '17',
  },
  'java-gradle': {
    framework: 'java',
    because: 'build.gradle.kts',
    packageManager: 'gradle@8.12',
    install: null,
    build: './gradlew installDist -x test',
    start: 'build/install/ktor-sample/bin/ktor-sample',
    output: null,
    runtime: 'java',
    runtimeVersion: '21',
  },
  dotnet: {
    framework: 'dotnet',
    because: 'TodoApi.csproj',
    packageManager: 'dotnet',
    install: 'dotnet restore TodoApi.csproj --locked-mode',
    build: 'dotnet publish TodoApi.csproj -c Release -o out',
    start: `dotnet out/TodoApi.dll --urls http://0.0.0.0:${port(8080)}`,
    output: null,
    runtime: 'dotnet',
    runtimeVersion: '8.0.404',
  },
  phoenix: {
    framework: 'phoenix',
    because: 'mix.exs depends on :phoenix',
    packageManager: 'mix',
    install: 'mix deps.get --only prod',
    build: 'MIX_ENV=prod mix compile && MIX_ENV=prod mix assets.deploy',
    start: 'MIX_ENV=prod mix phx.server',
    output: null,
    runtime: 'elixir',
    runtimeVersion: '1.17.3-otp-27',
  },
  elixir: {
    framework: 'elixir',
    because: 'mix.exs',
    packageManager: 'mix',
    install: 'mix deps.get --only prod',
    build: 'MIX_ENV=prod mix compile',
    start: 'MIX_ENV=prod mix run --no-halt',
    output: null,
    runtime: 'elixir',
    runtimeVersion: '~> 1.16',
  },
  laravel: {
    framework: 'laravel',
    because: 'composer.json requires "laravel/framework" and artisan',
    packageManager: 'composer',
    install: 'composer install --no-dev --optimize-autoloader --no-interaction && npm ci',
    build: 'npm run build',
    start: `php artisan serve --host=0.0.0.0 --port=${port(8000)}`,
    output: null,
    runtime: 'php',
    runtimeVersion: '^8.2',
  },
  php: {
    framework: 'php',
    because: 'composer.json',
    packageManager: 'composer',
    install: 'composer install --no-dev --optimize-autoloader --no-interaction',
    build: null,
    start: `php -S 0.0.0.0:${port(8000)} -t public`,
    output: null,
    runtime: 'php',
    runtimeVersion: '>=8.3',
  },
  dockerfile: {
    framework: 'docker',
    because: 'Dockerfile',
    packageManager: null,
    install: null,
    build: 'docker build .',
    start: null,
    output: null,
    runtime: 'docker',
  },
  'express-dockerfile': {
    framework: 'express',
    because:
      'package.json depends on "express" (wins over the Dockerfile: set "framework": "docker" to build it)',
    packageManager: 'npm',
    install: 'npm ci',
    build: null,
    start: 'npm run start',
    output: null,
    runtime: 'node',
  },
  monorepo: {
    framework: 'node',
    because: 'package.json without a known framework',
    ...PNPM,
    packageManager: 'pnpm@9.15.4',
    start: null,
    output: null,
    runtime: 'node',
    runtimeVersion: '22',
  },
};

describe('detection on fixtures', () => {
  it.each(Object.entries(CASES))('%s', async (name, expected) => {
    const detection = await detectFixture(name);
    expect(summary(detection)).toEqual(expected);
    for (const [field, decision] of Object.entries(detection)) {
      if (field !== 'rootDir') expect(decision.evidence, field).toMatch(/\S/);
    }
  });

  it('prints a value and its evidence on every line of sparki detect', async () => {
    for (const name of Object.keys(CASES)) {
      const lines = formatDetection(await detectFixture(name), name)
        .split('\n')
        .slice(3);
      expect(lines, name).toHaveLength(8);
      for (const line of lines) expect(line, name).toMatch(/^\S.*?\S {2,}\S.*? {2,}\S/);
    }
  });

  it('asks the tree about each file once, and about absent files not at all', async () => {
    // Most files detection looks for are absent: one listing per directory answers for them,
    // which keeps detection within its few milliseconds on a disk or a git provider's API.
    for (const name of Object.keys(CASES)) {
      const tree = await fileSystemTree(join(FIXTURES, name));
      const asked: string[] = [];
      const counted = Object.fromEntries(
        (['exists', 'read', 'list'] as const).map((method) => [
          method,
          (path: string) => {
            asked.push(`${method} ${path}`);
            return tree[method](path);
          },
        ]),
      ) as unknown as typeof tree;
      await detect(counted);
      expect(new Set(asked).size, name).toBe(asked.length);
      expect(asked.length, `${name}: ${asked.join(', ')}`).toBeLessThanOrEqual(16);
    }
  });

  it('uses every fixture, and docs/detection.md counts them', async () => {
    const fixtures = await readdir(FIXTURES);
    const special = ['sparki-json', 'invalid-sparki-json'];
    expect(fixtures.filter((name) => !(name in CASES) && !special.includes(name))).toEqual([]);
    const docs = await readFile(join(FIXTURES, '../../../docs/detection.md'), 'utf8');
    expect(docs).toContain(`${fixtures.length} fixtures`);
  });

  it('has a fixture for every framework Sparki knows', () => {
    const covered = new Set(Object.values(CASES).map((expected) => expected.framework));
    expect(FRAMEWORK_IDS.filter((id) => !covered.has(id))).toEqual([]);
  });

  it('detects a monorepo member from its root directory, with the lockfile and pins at the top', async () => {
    const web = await detectFixture('monorepo', { rootDir: 'apps/web' });
    expect(summary(web)).toEqual({
      framework: 'vite-react',
      because: 'package.json depends on "@vitejs/plugin-react" with "vite"',
      ...PNPM,
      packageManager: 'pnpm@9.15.4',
      ...NODE_STATIC,
      output: 'dist',
      runtimeVersion: '22',
    });
    expect(web.rootDir).toBe('apps/web');
    expect(web.packageManager.evidence).toBe(
      'package.json at the repository root "packageManager": "pnpm@9.15.4"',
    );
    expect(web.installCommand.evidence).toMatch(/^pnpm-lock\.yaml at the repository root/);
    expect(web.runtimeVersion.evidence).toBe('.nvmrc at the repository root');

    const docs = await detectFixture('monorepo', { rootDir: './apps/docs/' });
    expect(docs.framework.value).toBe('docusaurus');
    expect(docs.outputDirectory).toEqual({
      value: 'public-docs',
      evidence: 'package.json script "build": "docusaurus build --out-dir public-docs"',
    });
  });

  it('lets sparki.json override single fields and says so', async () => {
    const detection = await detectFixture('sparki-json');
    expect(detection.framework.value).toBe('vite');
    expect(detection.installCommand).toEqual({
      value: 'npm ci',
      evidence: 'package-lock.json: install exactly the locked versions',
    });
    expect(detection.buildCommand).toEqual({
      value: 'npm run build:prod',
      evidence: 'sparki.json',
    });
    expect(detection.outputDirectory).toEqual({ value: 'public', evidence: 'sparki.json' });
    expect(detection.runtimeVersion).toEqual({ value: '24', evidence: 'sparki.json' });
  });

  it('rejects an invalid sparki.json, naming every failing field', async () => {
    await expect(detectFixture('invalid-sparki-json')).rejects.toMatchObject({
      name: 'SparkiConfigError',
      issues: [
        { path: 'framework', message: expect.stringContaining('"webobjects" is not one of') },
        { path: 'outputDirectory', message: expect.stringContaining('expected string') },
        { path: 'buildCommmand', message: 'unknown field' },
      ],
    });
  });
});
