import { isRecord, type Project } from '../project';
import type { Decision, Toolchain } from '../types';
import { type Framework, noOutput, port, procfileWeb } from './framework';

/** PEP 503 name normalisation: `Flask_Cors` and `flask-cors` are the same package. */
const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** A PEP 508 requirement's name: `fastapi[standard]>=0.115` → `fastapi`. */
const requirementName = (requirement: string) =>
  /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(requirement)?.[1];

/** Declared Python dependencies, each mapped to the file that declares it. */
async function pythonDependencies(project: Project): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const add = (name: string | undefined, file: string) => {
    if (name && !found.has(normalize(name))) found.set(normalize(name), file);
  };
  const requirements = await project.read('requirements.txt');
  for (const line of requirements?.split(/\r?\n/) ?? []) {
    const requirement = line.replace(/#.*/, '').trim();
    if (!requirement.startsWith('-')) add(requirementName(requirement), 'requirements.txt');
  }
  const pyproject = await project.toml('pyproject.toml');
  const dependencies = isRecord(pyproject?.project) ? pyproject.project.dependencies : undefined;
  for (const requirement of Array.isArray(dependencies) ? dependencies : []) {
    if (typeof requirement === 'string') add(requirementName(requirement), 'pyproject.toml');
  }
  const tool = isRecord(pyproject?.tool) ? pyproject.tool : {};
  const poetry = isRecord(tool.poetry) && tool.poetry.dependencies;
  for (const name of isRecord(poetry) ? Object.keys(poetry) : []) add(name, 'pyproject.toml');
  const pipfile = await project.toml('Pipfile');
  const packages = isRecord(pipfile?.packages) ? Object.keys(pipfile.packages) : [];
  for (const name of packages) add(name, 'Pipfile');
  const setup = await project.read('setup.py');
  const requires = setup && /install_requires\s*=\s*\[([^\]]*)\]/.exec(setup)?.[1];
  for (const [, requirement] of requires?.matchAll(/["']([^"']+)["']/g) ?? []) {
    add(requirementName(requirement!), 'setup.py');
  }
  return found;
}

async function lists(project: Project, name: string): Promise<string | undefined> {
  const file = (await pythonDependencies(project)).get(name);
  return file && `${file} lists "${name}"`;
}

/** The module and variable holding the app, e.g. `main:app` for `app = FastAPI()` in main.py. */
async function appTarget(
  project: Project,
  className: string,
  candidates: string[],
): Promise<Decision<string>> {
  const pattern = new RegExp(`^(\\w+)\\s*(?::[^=]+)?=\\s*${className}\\(`, 'm');
  for (const path of candidates) {
    const variable = pattern.exec((await project.read(path)) ?? '')?.[1];
    if (variable) {
      const module = path
        .replace(/\.py$/, '')
        .replace(/\/__init__$/, '')
        .replaceAll('/', '.');
      return {
        value: `${module}:${variable}`,
        evidence: `${path} creates ${variable} = ${className}()`,
      };
    }
  }
  const fallback = `${candidates[0]!.replace(/\.py$/, '')}:app`;
  return { value: fallback, evidence: `no ${className}() found: assuming ${fallback}` };
}

const APP_FILES = ['main.py', 'app.py', 'app/main.py', 'src/main.py', 'api.py', 'server.py'];
const FLASK_FILES = ['app.py', 'wsgi.py', 'main.py', 'application.py', 'app/__init__.py'];

function pythonFramework(spec: {
  name: string;
  package: string;
  start(project: Project, toolchain: Toolchain): Promise<Decision<string>>;
  build?(project: Project, toolchain: Toolchain): Promise<Decision<string | null>>;
  marker?: string;
}): Framework {
  return {
    name: spec.name,
    runtime: 'python',
    ecosystem: 'python',
    async match(project) {
      if (spec.marker && !(await project.has(spec.marker))) return undefined;
      const listed = await lists(project, spec.package);
      return listed && spec.marker ? `${spec.marker} and ${listed}` : listed;
    },
    plan: async (project, toolchain) => ({
      build: spec.build
        ? await spec.build(project, toolchain)
        : { value: null, evidence: 'Python runs from source' },
      start: await spec.start(project, toolchain),
      output: noOutput(`${spec.name} is a server`),
    }),
  };
}

const MANIFESTS = ['requirements.txt', 'pyproject.toml', 'Pipfile', 'setup.py'];
const ENTRY_FILES = ['app.py', 'main.py', 'server.py', 'wsgi.py', 'asgi.py', 'application.py'];

/**
 * How a Python app without a known framework starts: its Procfile, else a well-known entry file
 * served by the ASGI or WSGI server it lists, else run as a script.
 */
async function pythonStart(
  project: Project,
  toolchain: Toolchain,
): Promise<Decision<string | null>> {
  const web = await procfileWeb(project);
  if (web) return { value: toolchain.exec(web), evidence: 'Procfile web process' };
  const entry = await project.firstFile(ENTRY_FILES);
  if (!entry) {
    return {
      value: null,
      evidence: `no Procfile web process and no ${ENTRY_FILES.join(', ')}: set startCommand`,
    };
  }
  const variable = /^(app|application|api)\s*(?::[^=]+)?=[^=]/m.exec(entry.text)?.[1];
  const target = `${entry.path.replace(/\.py$/, '')}:${variable}`;
  const uvicorn = variable && (await lists(project, 'uvicorn'));
  if (uvicorn) {
    return {
      value: toolchain.exec(`uvicorn ${target} --host 0.0.0.0 --port ${port(8000)}`),
      evidence: `${entry.path} defines ${variable}; ${uvicorn}`,
    };
  }
  const gunicorn = variable && (await lists(project, 'gunicorn'));
  if (gunicorn) {
    return {
      value: toolchain.exec(`gunicorn ${target} --bind 0.0.0.0:${port(8000)}`),
      evidence: `${entry.path} defines ${variable}; ${gunicorn}`,
    };
  }
  return {
    value: toolchain.exec(`python ${entry.path}`),
    evidence: variable
      ? `${entry.path} defines ${variable}, but neither uvicorn nor gunicorn is listed: run as a script`
      : `${entry.path}, run as a script`,
  };
}

/** The settings module manage.py points at, e.g. `mysite.settings`. */
async function djangoSettings(project: Project): Promise<string> {
  const manage = (await project.read('manage.py')) ?? '';
  return /DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]/.exec(manage)?.[1] ?? 'config.settings';
}

export const pythonFrameworks = {
  django: pythonFramework({
    name: 'Django',
    package: 'django',
    marker: 'manage.py',
    async build(project, toolchain) {
      const settings = `${(await djangoSettings(project)).replaceAll('.', '/')}.py`;
      const text = (await project.read(settings)) ?? '';
      // collectstatic refuses to run without STATIC_ROOT.
      return /^STATIC_ROOT\s*=/m.test(text)
        ? {
            value: toolchain.exec('python manage.py collectstatic --noinput'),
            evidence: `${settings} sets STATIC_ROOT`,
          }
        : { value: null, evidence: `${settings} has no STATIC_ROOT: no static files to collect` };
    },
    async start(project, toolchain) {
      const wsgi = (await djangoSettings(project)).replace(/\.[^.]+$/, '.wsgi');
      const gunicorn = await lists(project, 'gunicorn');
      return gunicorn
        ? {
            value: toolchain.exec(`gunicorn ${wsgi} --bind 0.0.0.0:${port(8000)}`),
            evidence: `${gunicorn}; manage.py names ${wsgi}`,
          }
        : {
            value: toolchain.exec(`python manage.py runserver 0.0.0.0:${port(8000)}`),
            evidence: 'gunicorn is not listed: Django’s development server',
          };
    },
  }),
  fastapi: pythonFramework({
    name: 'FastAPI',
    package: 'fastapi',
    async start(project, toolchain) {
      const target = await appTarget(project, 'FastAPI', APP_FILES);
      return {
        value: toolchain.exec(`uvicorn ${target.value} --host 0.0.0.0 --port ${port(8000)}`),
        evidence: target.evidence,
      };
    },
  }),
  flask: pythonFramework({
    name: 'Flask',
    package: 'flask',
    async start(project, toolchain) {
      const target = await appTarget(project, 'Flask', FLASK_FILES);
      const gunicorn = await lists(project, 'gunicorn');
      if (gunicorn) {
        return {
          value: toolchain.exec(`gunicorn ${target.value} --bind 0.0.0.0:${port(8000)}`),
          evidence: `${target.evidence}; ${gunicorn}`,
        };
      }
      return {
        value: toolchain.exec(
          `flask --app ${target.value} run --host 0.0.0.0 --port ${port(8000)}`,
        ),
        evidence: `${target.evidence}; gunicorn is not listed: Flask’s development server`,
      };
    },
  }),
  fasthtml: pythonFramework({
    name: 'FastHTML',
    package: 'python-fasthtml',
    async start(project, toolchain) {
      const files = ['main.py', 'app.py'];
      const entry = await project.firstFile(files);
      // FastHTML apps are made by fast_app(), which returns the app and its route decorator.
      const variable =
        entry && /^(\w+)\s*(?:,[^=\n]*)?=\s*(?:fast_app|FastHTML)\(/m.exec(entry.text)?.[1];
      const target = `${(entry?.path ?? files[0]!).replace(/\.py$/, '')}:${variable ?? 'app'}`;
      return {
        value: toolchain.exec(`uvicorn ${target} --host 0.0.0.0 --port ${port(5001)}`),
        evidence: variable
          ? `${entry!.path} creates ${variable} with fast_app()`
          : `no fast_app() found: assuming ${target}`,
      };
    },
  }),
  python: {
    name: 'Python',
    runtime: 'python',
    ecosystem: 'python',
    async match(project) {
      const manifest = await project.firstPresent(MANIFESTS);
      return manifest && `${manifest} without a known framework`;
    },
    plan: async (project, toolchain) => ({
      build: { value: null, evidence: 'Python runs from source' },
      start: await pythonStart(project, toolchain),
      output: noOutput('a Python app'),
    }),
  },
} satisfies Record<string, Framework>;
