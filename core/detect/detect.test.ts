import { describe, expect, it } from 'vitest';
import { detect } from './detect';
import { memoryTree } from './source-tree';
import { DetectionError } from './types';

/** The port placeholder of a server's start command. */
const port = (fallback: number) => `\${PORT:-${fallback}}`;

const json = (value: unknown) => JSON.stringify(value, null, 2);
const packageJson = (fields: Record<string, unknown>) => json({ name: 'app', ...fields });
const viteApp = {
  'package.json': packageJson({
    scripts: { build: 'vite build' },
    devDependencies: { vite: '^8' },
  }),
  'index.html': '<!doctype html>',
};

describe('package manager', () => {
  it('takes the packageManager field over a lockfile of another manager', async () => {
    const detection = await detect(
      memoryTree({
        ...viteApp,
        'package.json': packageJson({
          packageManager: 'pnpm@9.1.0',
          scripts: { build: 'vite build' },
          devDependencies: { vite: '^8' },
        }),
        'package-lock.json': '{}',
      }),
    );
    expect(detection.packageManager).toEqual({
      value: { name: 'pnpm', version: '9.1.0' },
      evidence: 'package.json "packageManager": "pnpm@9.1.0" (wins over package-lock.json)',
    });
    // package-lock.json cannot pin pnpm's install, so it is not frozen.
    expect(detection.installCommand).toEqual({
      value: 'pnpm install',
      evidence: 'no pnpm-lock.yaml: versions are resolved afresh',
    });
    expect(detection.buildCommand.value).toBe('pnpm run build');
  });

  it('reads a Corepack hash suffix and tells Yarn Berry by its major version', async () => {
    const detection = await detect(
      memoryTree({
        ...viteApp,
        'package.json': packageJson({ packageManager: 'yarn@4.5.1+sha512.1a2b3c' }),
        'yarn.lock': '# yarn lockfile v1\n',
      }),
    );
    expect(detection.packageManager.value).toEqual({ name: 'yarn', version: '4.5.1' });
    expect(detection.installCommand.value).toBe('yarn install --immutable');
  });

  it('prefers pnpm, yarn or bun over a stray package-lock.json beside them, and says so', async () => {
    const detection = await detect(
      memoryTree({
        ...viteApp,
        'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
        'package-lock.json': '{}',
      }),
    );
    expect(detection.packageManager).toEqual({
      value: { name: 'pnpm', version: null },
      evidence: 'pnpm-lock.yaml (also found package-lock.json)',
    });
  });

  it('falls back to npm install without a lockfile', async () => {
    const detection = await detect(memoryTree(viteApp));
    expect(detection.packageManager.evidence).toBe('no lockfile: npm by default');
    expect(detection.installCommand.value).toBe('npm install');
  });

  it('uses npm ci with npm-shrinkwrap.json', async () => {
    const detection = await detect(memoryTree({ ...viteApp, 'npm-shrinkwrap.json': '{}' }));
    expect(detection.installCommand.value).toBe('npm ci');
  });

  it('runs framework binaries through the package manager when there is no build script', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({ dependencies: { astro: '^7' } }),
        'bun.lock': '{}',
      }),
    );
    expect(detection.buildCommand).toEqual({
      value: 'bunx astro build',
      evidence: 'no "build" script: Astro\'s build',
    });
  });
});

describe('precedence between frameworks', () => {
  it.each([
    ['sveltekit', { '@sveltejs/kit': '^3', vite: '^8', '@sveltejs/vite-plugin-svelte': '^7' }],
    ['astro', { astro: '^7', vite: '^8', '@vitejs/plugin-react': '^6', react: '^19' }],
    ['nuxt', { nuxt: '^4', vite: '^8', '@vitejs/plugin-vue': '^6' }],
    ['remix', { '@remix-run/dev': '^2', vite: '^6', react: '^18' }],
    ['react-router', { '@react-router/dev': '^7', 'react-router': '^7', vite: '^7' }],
    ['docusaurus', { '@docusaurus/core': '^3', react: '^19', express: '^5' }],
    ['gatsby', { gatsby: '^5', react: '^18' }],
    ['nextjs', { next: '^16', react: '^19', express: '^5' }],
    ['vite-qwik', { '@builder.io/qwik': '^1', vite: '^8' }],
    ['vite-react', { vite: '^8', '@vitejs/plugin-react': '^6', express: '^5' }],
    ['tanstack-start', { '@tanstack/react-start': '^1', nitro: '^3', vite: '^7' }],
    ['solidstart', { '@solidjs/start': '^1', vinxi: '^0.5', 'vite-plugin-solid': '^2' }],
    ['vitepress', { vitepress: '^1', vue: '^3', vite: '^6', '@vitejs/plugin-vue': '^5' }],
    ['ionic-react', { '@ionic/react': '^8', vite: '^6', '@vitejs/plugin-react': '^4' }],
    ['ember', { 'ember-source': '^6', vite: '^6' }],
    ['sanity', { sanity: '^3', react: '^18', vite: '^6' }],
    ['vite-react', { vite: '^8', '@vitejs/plugin-react': '^6', storybook: '^8' }],
    ['nestjs', { '@nestjs/core': '^11', '@nestjs/platform-express': '^11', express: '^5' }],
    ['nuxt', { 'nuxt-nightly': '^4', vite: '^7', '@vitejs/plugin-vue': '^6' }],
  ])('%s wins over what it is built on', async (framework, dependencies) => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({ dependencies }),
        'sanity.config.ts': 'export default {}',
      }),
    );
    expect(detection.framework.value).toBe(framework);
  });

  it('takes a Django app with a Tailwind package.json as Django', async () => {
    const detection = await detect(
      memoryTree({
        'manage.py': "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n",
        'requirements.txt': 'django>=5\n',
        'package.json': packageJson({ devDependencies: { tailwindcss: '^4', vite: '^8' } }),
      }),
    );
    expect(detection.framework.value).toBe('django');
    expect(detection.buildCommand).toEqual({
      value: null,
      evidence: 'shop/settings.py has no STATIC_ROOT: no static files to collect',
    });
    expect(detection.startCommand).toEqual({
      value: `python manage.py runserver 0.0.0.0:${port(8000)}`,
      evidence: 'gunicorn is not listed: Django’s development server',
    });
  });

  it('takes a Hugo site with Hugo modules (go.mod) and PostCSS tooling as Hugo', async () => {
    const detection = await detect(
      memoryTree({
        'config.toml': 'baseURL = "https://example.org/"\npublishDir = "site"\n',
        'content/_index.md': '# Home',
        'go.mod': 'module example.org/site\n\ngo 1.22\n',
        'package.json': packageJson({ devDependencies: { postcss: '^8' } }),
        'package-lock.json': '{}',
      }),
    );
    expect(detection.framework).toEqual({
      value: 'hugo',
      evidence: 'config.toml with baseURL and content/',
    });
    expect(detection.installCommand.value).toBe('npm ci');
    expect(detection.outputDirectory).toEqual({
      value: 'site',
      evidence: 'config.toml sets publishDir',
    });
  });

  it('does not take any config.toml for Hugo', async () => {
    const detection = await detect(
      memoryTree({ 'config.toml': '[server]\nport = 8080\n', 'index.html': '<p>hi</p>' }),
    );
    expect(detection.framework.value).toBe('static');
  });

  it('finds a static site in public/ when the root has no index.html', async () => {
    const detection = await detect(memoryTree({ 'public/index.html': '<p>hi</p>' }));
    expect(detection.outputDirectory).toEqual({ value: 'public', evidence: 'public/index.html' });
  });

  it('reports nothing, with what it looked for, on a tree it cannot place', async () => {
    const detection = await detect(memoryTree({ 'README.md': '# notes' }));
    expect(detection.framework.value).toBeNull();
    expect(detection.framework.evidence).toMatch(/^no known framework, package\.json/);
    expect(detection.buildCommand.value).toBeNull();
  });
});

describe('framework conventions', () => {
  it('runs a standalone Next.js build with node and honours distDir', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({ dependencies: { next: '16' } }),
        'next.config.js': "module.exports = { output: 'standalone', distDir: 'build' };\n",
      }),
    );
    expect(detection.startCommand).toEqual({
      value: 'node build/standalone/server.js',
      evidence: "next.config.js sets output: 'standalone'",
    });
    expect(detection.outputDirectory.value).toBe('build');
  });

  it('treats a custom distDir as the export directory of a static Next.js export', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({ dependencies: { next: '16' } }),
        'next.config.mjs': "export default { output: 'export', distDir: 'dist' };\n",
      }),
    );
    expect(detection.outputDirectory.value).toBe('dist');
    expect(detection.startCommand.value).toBeNull();
  });

  it('serves the public folder of nuxt generate', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({
          scripts: { build: 'nuxt generate' },
          dependencies: { nuxt: '^4' },
        }),
      }),
    );
    expect(detection.outputDirectory.value).toBe('.output/public');
    expect(detection.startCommand.value).toBeNull();
  });

  it('builds React Router in SPA mode to build/client', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({ devDependencies: { '@react-router/dev': '^7' } }),
        'react-router.config.ts': 'export default { ssr: false } satisfies Config;\n',
      }),
    );
    expect(detection.outputDirectory).toEqual({
      value: 'build/client',
      evidence: 'react-router.config.ts sets ssr: false',
    });
    expect(detection.buildCommand.value).toBe('npx react-router build');
  });

  it('starts classic Remix (no Vite) from build/index.js', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({ devDependencies: { '@remix-run/dev': '^2' } }),
        'remix.config.js': 'module.exports = {};\n',
      }),
    );
    expect(detection.startCommand.value).toBe('npx remix-serve ./build/index.js');
  });

  it('starts SvelteKit adapter-node output with node', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({
          devDependencies: { '@sveltejs/kit': '^3', '@sveltejs/adapter-node': '^6' },
        }),
        'svelte.config.js': "export default { kit: { adapter: adapter({ out: 'server' }) } };\n",
      }),
    );
    expect(detection.outputDirectory).toEqual({
      value: 'server',
      evidence: "svelte.config.js sets out: 'server'",
    });
    expect(detection.startCommand.value).toBe('node server');
  });

  it('reads an Angular outputPath object and the SSR start script', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({
          scripts: { 'serve:ssr:store': 'node dist/store/server/server.mjs' },
          dependencies: { '@angular/core': '^22', '@angular/ssr': '^22' },
        }),
        'angular.json': json({
          projects: {
            lib: { projectType: 'library' },
            store: {
              projectType: 'application',
              architect: {
                build: {
                  builder: '@angular/build:application',
                  options: { outputPath: { base: 'out/store', browser: '' }, ssr: { entry: 'x' } },
                },
              },
            },
          },
        }),
      }),
    );
    expect(detection.outputDirectory.value).toBe('out/store');
    expect(detection.startCommand).toEqual({
      value: 'npm run serve:ssr:store',
      evidence: 'package.json script "serve:ssr:store"',
    });
  });

  it('uses outputPath as is for the older browser builder', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({ dependencies: { '@angular/core': '^16' } }),
        'angular.json': json({
          defaultProject: 'legacy',
          projects: {
            legacy: {
              architect: {
                build: {
                  builder: '@angular-devkit/build-angular:browser',
                  options: { outputPath: 'dist/legacy' },
                },
              },
            },
          },
        }),
      }),
    );
    expect(detection.outputDirectory.value).toBe('dist/legacy');
  });

  it('takes --outDir from the build script over vite.config', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({
          scripts: { build: 'tsc && vite build --outDir=www' },
          devDependencies: { vite: '^8' },
        }),
        'vite.config.ts': "export default { build: { outDir: 'ignored' } };\n",
      }),
    );
    expect(detection.outputDirectory.value).toBe('www');
  });

  it('starts a Node server from package.json main when there is no start script', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({ main: 'src/app.js', dependencies: { express: '^5' } }),
        'src/app.js': 'require("express")().listen(3000);\n',
      }),
    );
    expect(detection.startCommand).toEqual({
      value: 'node src/app.js',
      evidence: 'package.json "main": "src/app.js"',
    });
  });

  it('runs a Bun app without a start script with bun, and says Bun is the runtime', async () => {
    // The layout `bun init` writes.
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({
          module: 'index.ts',
          devDependencies: { '@types/bun': 'latest' },
        }),
        'bun.lock': '{ "lockfileVersion": 1 }',
        'index.ts': 'Bun.serve({ fetch: () => new Response("hi") });\n',
      }),
    );
    expect(detection.framework.value).toBe('node');
    expect(detection.startCommand).toEqual({
      value: 'bun index.ts',
      evidence: 'package.json "module": "index.ts"',
    });
    expect(detection.runtime).toEqual({ value: 'bun', evidence: 'bun.lock: Bun runs the app' });
  });

  it('takes Bun as the runtime of a server whose start script runs bun', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({
          scripts: { start: 'bun run src/index.ts' },
          dependencies: { hono: '^4' },
        }),
        'package-lock.json': '{}',
      }),
    );
    expect(detection.startCommand.value).toBe('npm run start');
    expect(detection.runtime).toEqual({
      value: 'bun',
      evidence: 'package.json script "start": "bun run src/index.ts" runs Bun',
    });
  });

  it('leaves TanStack Start without the Nitro plugin to a platform adapter', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({
          scripts: { build: 'vite build' },
          dependencies: { '@tanstack/react-start': '^1', vite: '^7' },
        }),
        'vite.config.ts': 'export default defineConfig({ plugins: [tanstackStart()] })\n',
      }),
    );
    expect(detection.startCommand).toEqual({
      value: null,
      evidence: 'no Nitro plugin and no "start" script: dist/server needs a platform adapter',
    });
    expect(detection.outputDirectory.value).toBe('dist');
  });

  it('builds VitePress from the directory its build script names', async () => {
    const detection = await detect(
      memoryTree({
        'package.json': packageJson({
          scripts: { build: 'tsup', 'docs:build': 'vitepress build ./website/' },
          devDependencies: { vitepress: '^1' },
        }),
      }),
    );
    expect(detection.buildCommand.value).toBe('npm run docs:build');
    expect(detection.outputDirectory.value).toBe('website/.vitepress/dist');
  });

  it('runs a Deno entry file with deno run when deno.jsonc has no start task', async () => {
    const detection = await detect(
      memoryTree({
        // Comments and a URL with // in a string: JSONC, not JSON.
        'deno.jsonc':
          '{\n  // tasks\n  "tasks": { "build": "deno run -A https://deno.land/x/build.ts", },\n}\n',
        'server.ts': 'Deno.serve(() => new Response("hi"));\n',
      }),
    );
    expect(detection.framework).toEqual({ value: 'deno', evidence: 'deno.jsonc' });
    expect(detection.installCommand.value).toBe('deno install');
    expect(detection.buildCommand).toEqual({
      value: 'deno task build',
      evidence: 'deno.json task "build": "deno run -A https://deno.land/x/build.ts"',
    });
    expect(detection.startCommand).toEqual({
      value: 'deno run -A server.ts',
      evidence: 'no "start" task: server.ts',
    });
  });

  it('runs the jar of a plain Maven project, named by its own artifactId and version', async () => {
    const detection = await detect(
      memoryTree({
        'pom.xml': `<project>
  <parent><artifactId>company-parent</artifactId><version>7</version></parent>
  <artifactId>billing</artifactId>
  <version>2.3.0</version>
  <properties><maven.compiler.release>17</maven.compiler.release></properties>
  <dependencies><dependency><artifactId>jackson</artifactId><version>2.18</version></dependency></dependencies>
</project>`,
      }),
    );
    expect(detection.framework.value).toBe('java');
    expect(detection.installCommand.value).toBe('mvn -B dependency:go-offline');
    expect(detection.buildCommand.value).toBe('mvn -B -DskipTests package');
    expect(detection.startCommand.value).toBe('java -jar target/billing-2.3.0.jar');
    expect(detection.runtimeVersion).toEqual({
      value: '17',
      evidence: 'pom.xml Java version property',
    });
  });

  it('publishes the web project of a .NET solution laid out under src/', async () => {
    const detection = await detect(
      memoryTree({
        'Shop.sln': 'Microsoft Visual Studio Solution File, Format Version 12.00\n',
        'src/Shop.Core/Shop.Core.csproj':
          '<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net9.0</TargetFramework></PropertyGroup></Project>',
        'src/Shop.Api/Shop.Api.csproj':
          '<Project Sdk="Microsoft.NET.Sdk.Web"><PropertyGroup><TargetFramework>net9.0</TargetFramework><AssemblyName>shop</AssemblyName></PropertyGroup></Project>',
      }),
    );
    expect(detection.framework).toEqual({
      value: 'dotnet',
      evidence: 'src/Shop.Api/Shop.Api.csproj',
    });
    expect(detection.installCommand.value).toBe('dotnet restore src/Shop.Api/Shop.Api.csproj');
    expect(detection.buildCommand.value).toBe(
      'dotnet publish src/Shop.Api/Shop.Api.csproj -c Release -o out',
    );
    expect(detection.startCommand.value).toBe(
      `dotnet out/shop.dll --urls http://0.0.0.0:${port(8080)}`,
    );
    expect(detection.runtimeVersion).toEqual({
      value: '9.0',
      evidence: 'src/Shop.Api/Shop.Api.csproj TargetFramework',
    });
  });

  it('runs Flask without gunicorn on its own server, from a Pipfile', async () => {
    const detection = await detect(
      memoryTree({
        Pipfile: '[packages]\nFlask = "*"\n\n[requires]\npython_version = "3.12"\n',
        'Pipfile.lock': '{}',
        'wsgi.py': 'from flask import Flask\n\nserver = Flask(__name__)\n',
      }),
    );
    expect(detection.packageManager.value?.name).toBe('pipenv');
    expect(detection.installCommand.value).toBe('pipenv install --deploy');
    expect(detection.startCommand.value).toBe(
      `pipenv run flask --app wsgi:server run --host 0.0.0.0 --port ${port(8000)}`,
    );
    expect(detection.runtimeVersion).toEqual({ value: '3.12', evidence: 'Pipfile python_version' });
  });

  it('finds a FastAPI app inside a package and ignores look-alike requirement names', async () => {
    const detection = await detect(
      memoryTree({
        'requirements.txt':
          '# web\nfastapi-utils==0.8\nFastAPI[standard]==0.115 ; python_version>"3.9"\n',
        'app/main.py': 'from fastapi import FastAPI\n\napi: FastAPI = FastAPI()\n',
        'runtime.txt': 'python-3.11.9\n',
      }),
    );
    expect(detection.framework.evidence).toBe('requirements.txt lists "fastapi"');
    expect(detection.startCommand.value).toBe(
      `uvicorn app.main:api --host 0.0.0.0 --port ${port(8000)}`,
    );
    expect(detection.runtimeVersion.value).toBe('3.11.9');
  });

  it('does not take a requirement that only starts with a framework name', async () => {
    const detection = await detect(memoryTree({ 'requirements.txt': 'flask-cors==5\n' }));
    expect(detection.framework).toEqual({
      value: 'python',
      evidence: 'requirements.txt without a known framework',
    });
    expect(detection.startCommand).toEqual({
      value: null,
      evidence:
        'no Procfile web process and no app.py, main.py, server.py, wsgi.py, asgi.py, application.py: set startCommand',
    });
  });

  it('serves the app of a Python entry file with gunicorn when it is listed', async () => {
    const detection = await detect(
      memoryTree({
        'requirements.txt': 'falcon==4.0.2\ngunicorn\n',
        'wsgi.py': 'import falcon\n\napplication = falcon.App()\n',
      }),
    );
    expect(detection.startCommand).toEqual({
      value: `gunicorn wsgi:application --bind 0.0.0.0:${port(8000)}`,
      evidence: 'wsgi.py defines application; requirements.txt lists "gunicorn"',
    });
  });

  it('runs a classic Sinatra app without config.ru as its own server', async () => {
    const detection = await detect(
      memoryTree({
        Gemfile: 'source "https://rubygems.org"\ngem "sinatra"\ngem "puma"\n',
        'app.rb': 'require "sinatra"\n\nget("/") { "hi" }\n',
      }),
    );
    expect(detection.framework.value).toBe('sinatra');
    expect(detection.startCommand).toEqual({
      value: `bundle exec ruby app.rb -o 0.0.0.0 -p ${port(4567)}`,
      evidence: 'no config.ru: app.rb runs its own server',
    });
  });

  it('skips asset compilation for an API-only Rails app', async () => {
    const detection = await detect(
      memoryTree({
        Gemfile: 'source "https://rubygems.org"\ngem "rails", "~> 8.0"\n',
        'config/application.rb': 'config.api_only = true\n',
      }),
    );
    expect(detection.buildCommand.value).toBeNull();
    expect(detection.packageManager.value).toEqual({ name: 'bundler', version: null });
  });

  it('builds the Go main package at the root and reads the go directive', async () => {
    const detection = await detect(
      memoryTree({
        'go.mod': 'module example.com/tool\n\ngo 1.22\n',
        'main.go': 'package main\n\nfunc main() {}\n',
      }),
    );
    expect(detection.buildCommand).toEqual({
      value: 'go build -o ./bin/app .',
      evidence: 'main.go is package main',
    });
    expect(detection.runtimeVersion).toEqual({ value: '1.22', evidence: 'go.mod go directive' });
  });

  it('starts the [[bin]] of a Rust crate', async () => {
    const detection = await detect(
      memoryTree({
        'Cargo.toml':
          '[package]\nname = "svc"\nrust-version = "1.80"\n\n[[bin]]\nname = "svc-server"\npath = "src/main.rs"\n',
      }),
    );
    expect(detection.startCommand.value).toBe('./target/release/svc-server');
    expect(detection.buildCommand.value).toBe('cargo build --release');
    expect(detection.runtimeVersion).toEqual({
      value: '1.80',
      evidence: 'Cargo.toml rust-version',
    });
  });
});

describe('runtime version', () => {
  it.each([
    [{ '.node-version': 'v24.1.0\n', '.nvmrc': '20' }, '24.1.0', '.node-version'],
    [{ '.nvmrc': '# pinned\nlts/jod\n' }, 'lts/jod', '.nvmrc'],
    [{ '.tool-versions': 'python 3.12.1\nnodejs 22.11.0\n' }, '22.11.0', '.tool-versions (nodejs)'],
    [{}, '22.14.0', 'package.json "volta.node"'],
  ])('reads %j', async (files, version, evidence) => {
    const detection = await detect(
      memoryTree({
        ...files,
        'package.json': packageJson({ volta: { node: '22.14.0' }, engines: { node: '>=20' } }),
      }),
    );
    expect(detection.runtimeVersion).toEqual({ value: version, evidence });
  });
});

describe('overrides', () => {
  it('applies project settings, and sparki.json over them', async () => {
    const detection = await detect(
      memoryTree({ ...viteApp, 'sparki.json': json({ buildCommand: 'make site' }) }),
      {
        settings: {
          buildCommand: 'npm run build:ci',
          outputDirectory: 'site',
          installCommand: null,
        },
      },
    );
    expect(detection.buildCommand).toEqual({ value: 'make site', evidence: 'sparki.json' });
    expect(detection.outputDirectory).toEqual({ value: 'site', evidence: 'project settings' });
    expect(detection.installCommand).toEqual({ value: null, evidence: 'project settings' });
    expect(detection.framework.value).toBe('vite');
  });

  it('derives the defaults of a framework set by hand', async () => {
    const detection = await detect(
      memoryTree({ 'package.json': packageJson({}), 'yarn.lock': '__metadata:\n  version: 8\n' }),
      { settings: { framework: 'docusaurus' } },
    );
    expect(detection.framework).toEqual({ value: 'docusaurus', evidence: 'project settings' });
    expect(detection.buildCommand.value).toBe('yarn docusaurus build');
    expect(detection.installCommand.value).toBe('yarn install --immutable');
    expect(detection.outputDirectory.value).toBe('build');
  });

  it('builds with the Dockerfile when framework is set to docker', async () => {
    const detection = await detect(
      memoryTree({
        ...viteApp,
        Dockerfile: 'FROM nginx\n',
        'sparki.json': json({ framework: 'docker' }),
      }),
    );
    expect(detection.framework).toEqual({ value: 'docker', evidence: 'sparki.json' });
    expect(detection.buildCommand.value).toBe('docker build .');
    expect(detection.installCommand.value).toBeNull();
  });

  it('switches install and run commands with a package manager override', async () => {
    const detection = await detect(memoryTree({ ...viteApp, 'package-lock.json': '{}' }), {
      settings: { packageManager: 'bun@1.2.0' },
    });
    expect(detection.packageManager).toEqual({
      value: { name: 'bun', version: '1.2.0' },
      evidence: 'project settings',
    });
    expect(detection.installCommand.value).toBe('bun install');
    expect(detection.buildCommand.value).toBe('bun run build');
  });

  it('switches a Python project to another manager', async () => {
    const detection = await detect(
      memoryTree({ 'requirements.txt': 'fastapi\n', 'main.py': 'app = FastAPI()\n' }),
      { settings: { packageManager: 'uv' } },
    );
    expect(detection.installCommand.value).toBe('uv sync');
    expect(detection.startCommand.value).toMatch(/^uv run uvicorn main:app /);
  });

  it('names invalid project settings as such', async () => {
    await expect(
      detect(memoryTree(viteApp), { settings: { outputDirectory: '../../etc', runtime: 'cobol' } }),
    ).rejects.toThrow(
      /^project settings is invalid:\n {2}- outputDirectory: a path inside the project, without "\.\."\n {2}- runtime: "cobol" is not one of node,/,
    );
  });

  it('reports sparki.json that is not JSON', async () => {
    await expect(
      detect(memoryTree({ ...viteApp, 'sparki.json': '{ "buildCommand": }' })),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/^sparki\.json is invalid:\n {2}- \(root\): not valid JSON/),
    });
  });
});

describe('root directory and malformed files', () => {
  it('refuses a root directory outside the repository', async () => {
    await expect(detect(memoryTree(viteApp), { rootDir: 'apps/../../..' })).rejects.toThrow(
      new DetectionError('"apps/../../.." points outside the repository'),
    );
    await expect(detect(memoryTree(viteApp), { rootDir: '/etc' })).rejects.toThrow(
      /must be relative/,
    );
  });

  it('refuses a root directory that does not exist', async () => {
    await expect(detect(memoryTree(viteApp), { rootDir: 'apps/web' })).rejects.toThrow(
      'root directory "apps/web" does not exist in the repository',
    );
  });

  it('names a package.json that is not JSON', async () => {
    await expect(detect(memoryTree({ 'package.json': '{ name: app }' }))).rejects.toThrow(
      /^package\.json is not valid JSON/,
    );
  });
});

describe('memoryTree', () => {
  it('lists directories and files like a file system', async () => {
    const tree = memoryTree({ 'a/b/c.txt': 'c', 'a/d.txt': 'd', 'e.txt': 'e' });
    expect(await tree.list('')).toEqual(['a', 'e.txt']);
    expect(await tree.list('a')).toEqual(['b', 'd.txt']);
    expect(await tree.list('e.txt')).toEqual([]);
    expect(await tree.exists('a/b')).toBe(true);
    expect(await tree.exists('a/x')).toBe(false);
    expect(await tree.read('./a//d.txt')).toBe('d');
    expect(await tree.read('a')).toBeUndefined();
  });
});
