import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { Command, InvalidArgumentError } from 'commander';
import { DetectionError, detect } from '../../core/detect';
import {
  Api,
  LINK_FILE,
  linkedProject,
  readLink,
  resolveTarget,
  withApiOptions,
  workingTreeRoot,
  writeLink,
} from '../client';
import { fileSystemTree } from '../fs-tree';
import {
  action,
  CliError,
  canPrompt,
  choose,
  formatTable,
  isCi,
  needsInput,
  note,
  paint,
  printJson,
  printNdjson,
} from '../output';
import {
  type Build,
  buildRows,
  type Deployment,
  deploymentRows,
  type Runner,
  runnerRows,
} from '../tables';
import { formatDetection } from './detect';

interface ApiOptions {
  url?: string;
  token?: string;
}

interface Workspace {
  id: string;
  name: string;
  slug: string;
  role: string;
}

interface Project {
  id: string;
  workspace_id: string;
  name: string;
  slug: string;
  repo_url: string | null;
  production_url: string | null;
}

interface Environment {
  id: string;
  name: string;
  kind: string;
  variables: { name: string; secret: boolean; value?: string }[];
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new InvalidArgumentError('not a positive integer');
  return number;
}

/** A slug the API accepts, from a directory or repository name. */
export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/\.git$/, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug || 'project';
}

/** The git host a remote URL names, for the project's provider; `none` for anything else. */
export function gitProvider(repoUrl: string): 'github' | 'gitlab' | 'none' {
  const host = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^/:]+)/i.exec(repoUrl)?.[1]?.toLowerCase();
  if (host === 'github.com') return 'github';
  if (host === 'gitlab.com') return 'gitlab';
  return 'none';
}

/** What the runner will fetch: `origin`'s URL, or the working tree's own path. */
async function repositoryUrl(root: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('git', ['remote', 'get-url', 'origin'], {
      cwd: root,
    });
    if (stdout.trim()) return stdout.trim();
  } catch {
    // no origin: the runner fetches the local repository itself
  }
  return root;
}

const sameRepository = (a: string | null, b: string) =>
  a !== null &&
  a.replace(/^file:\/\//, '').replace(/\/+$|\.git$/g, '') ===
    b.replace(/^file:\/\//, '').replace(/\/+$|\.git$/g, '');

async function pickWorkspace(api: Api, wanted: string | undefined): Promise<Workspace> {
  const { workspaces } = await api.get<{ workspaces: Workspace[] }>('/api/workspaces');
  if (wanted) {
    const found = workspaces.find((w) => w.id === wanted || w.slug === wanted);
    if (!found) throw new CliError(`no workspace ${wanted} among yours`);
    return found;
  }
  if (workspaces.length === 1) return workspaces[0]!;
  if (workspaces.length === 0) throw new CliError('you have no workspace: create one first');
  if (!canPrompt()) throw needsInput('a workspace', 'pass --workspace <id or slug>');
  return choose(
    'Workspace',
    workspaces.map((w) => ({ label: `${w.name} (${w.slug})`, value: w })),
  );
}

function linkCommand(): Command {
  return withApiOptions(
    new Command('link')
      .description('attach this working tree to a project, or create one with --create')
      .option('--project <id>', 'the project to link')
      .option('--create', 'create a project from the git remote and the detection')
      .option('--workspace <id>', 'the workspace (id or slug) to look in or create in')
      .option('--name <name>', 'with --create: the project name (default: the directory name)')
      .option('--slug <slug>', 'with --create: the project slug (its URL name)')
      .option('--branch <branch>', 'with --create: the production branch', 'main')
      .option('--root-dir <path>', 'with --create: the project directory inside the repository')
      .option('--json', 'print the linked project as JSON'),
  ).action(
    action(
      async (
        options: ApiOptions & {
          project?: string;
          create?: boolean;
          workspace?: string;
          name?: string;
          slug?: string;
          branch: string;
          rootDir?: string;
          json?: boolean;
        },
      ) => {
        const root = await workingTreeRoot();
        const target = await resolveTarget(options, await readLink(root).catch(() => null));
        const api = new Api(target);
        let project: Project;
        if (options.project) {
          project = await api.get<Project>(`/api/projects/${encodeURIComponent(options.project)}`);
        } else if (options.create) {
          project = await createProject(api, root, options);
        } else {
          project = await findProject(api, root, options.workspace);
        }
        const path = await writeLink(root, {
          project_id: project.id,
          workspace_id: project.workspace_id,
          url: target.url,
        });
        if (options.json) printJson(project);
        else {
          process.stdout.write(
            `Linked ${paint('bold', project.name)} (${project.id}) in ${path}\n`,
          );
        }
        await suggestGitignore(root);
      },
    ),
  );
}

async function suggestGitignore(root: string): Promise<void> {
  const ignore = await readFile(join(root, '.gitignore'), 'utf8').catch(() => '');
  if (!/^\/?\.sparki\/?$/m.test(ignore)) {
    note(`hint: add .sparki/ to .gitignore: ${LINK_FILE} is this checkout's own`);
  }
}

/** The project whose repository is this working tree's; asks when that is not one project. */
async function findProject(api: Api, root: string, wanted?: string): Promise<Project> {
  const repo = await repositoryUrl(root);
  const { workspaces } = await api.get<{ workspaces: Workspace[] }>('/api/workspaces');
  const candidates = workspaces.filter((w) => !wanted || w.id === wanted || w.slug === wanted);
  const projects: Project[] = [];
  for (const workspace of candidates) {
    const page = await api.get<{ projects: Project[] }>(`/api/workspaces/${workspace.id}/projects`);
    projects.push(...page.projects);
  }
  const matching = projects.filter((project) => sameRepository(project.repo_url, repo));
  if (matching.length === 1) return matching[0]!;
  const choices = matching.length > 0 ? matching : projects;
  if (!canPrompt()) {
    const what =
      matching.length > 1 ? 'a choice among the projects of this repository' : 'a project';
    throw needsInput(what, 'pass --project <id>, or --create to create one');
  }
  if (choices.length === 0) throw new CliError('no project to link: pass --create to create one');
  return choose(
    'Project',
    choices.map((p) => ({ label: `${p.name} (${p.slug}) ${p.repo_url ?? ''}`, value: p })),
  );
}

async function createProject(
  api: Api,
  root: string,
  options: { workspace?: string; name?: string; slug?: string; branch: string; rootDir?: string },
): Promise<Project> {
  const repo = await repositoryUrl(root);
  // Detection runs on the runner at every build; run here, it shows what the first build will do.
  try {
    const detection = await detect(await fileSystemTree(root), { rootDir: options.rootDir });
    note(formatDetection(detection, root));
  } catch (error) {
    if (!(error instanceof DetectionError)) throw error;
    note(`detection: ${error.message}`);
  }
  const workspace = await pickWorkspace(api, options.workspace);
  const name = options.name ?? basename(root);
  return api.request<Project>('POST', `/api/workspaces/${workspace.id}/projects`, {
    name,
    slug: options.slug ?? slugify(name),
    git_provider: gitProvider(repo),
    repo_url: repo,
    production_branch: options.branch,
    ...(options.rootDir ? { root_dir: options.rootDir } : {}),
  });
}

function buildsCommand(): Command {
  return withApiOptions(
    new Command('builds')
      .description("list the linked project's builds, newest first")
      .option('--status <status>', 'only builds in this state')
      .option('--branch <branch>', 'only builds of this branch')
      .option('--limit <n>', 'how many', positiveInteger, 20)
      .option('--json', 'print NDJSON: one build per line'),
  ).action(
    action(
      async (
        options: ApiOptions & { status?: string; branch?: string; limit: number; json?: boolean },
      ) => {
        const { api, link } = await linkedProject(options);
        const query = new URLSearchParams({ limit: String(options.limit) });
        if (options.status) query.set('status', options.status);
        if (options.branch) query.set('branch', options.branch);
        const { builds } = await api.get<{ builds: Build[] }>(
          `/api/projects/${link.project_id}/builds?${query}`,
        );
        if (options.json) return printNdjson(builds);
        if (builds.length === 0) return note('No builds yet: push a commit to build it.');
        const [header, ...rows] = buildRows(builds);
        process.stdout.write(`${formatTable(header!, rows)}\n`);
      },
    ),
  );
}

function deploymentsCommand(): Command {
  return withApiOptions(
    new Command('deployments')
      .description("list the linked project's deployments, newest first")
      .option('--env <environment>', 'only this environment (name)')
      .option('--limit <n>', 'how many', positiveInteger, 20)
      .option('--json', 'print NDJSON: one deployment per line'),
  ).action(
    action(async (options: ApiOptions & { env?: string; limit: number; json?: boolean }) => {
      const { api, link } = await linkedProject(options);
      const query = new URLSearchParams({ limit: String(options.limit) });
      if (options.env) {
        query.set('environment_id', (await environment(api, link.project_id, options.env)).id);
      }
      const { deployments } = await api.get<{ deployments: Deployment[] }>(
        `/api/projects/${link.project_id}/deployments?${query}`,
      );
      if (options.json) return printNdjson(deployments);
      if (deployments.length === 0) return note('No deployments yet: a successful build deploys.');
      const [header, ...rows] = deploymentRows(deployments);
      process.stdout.write(`${formatTable(header!, rows)}\n`);
    }),
  );
}

/** The project's environment by name (`production`, `preview`, …). */
export async function environment(api: Api, projectId: string, name: string): Promise<Environment> {
  const { environments } = await api.get<{ environments: Environment[] }>(
    `/api/projects/${projectId}/environments`,
  );
  const found = environments.find((env) => env.name === name);
  if (!found) {
    const names = environments.map((env) => env.name).join(', ');
    throw new CliError(`no environment ${name} in this project (it has ${names})`);
  }
  return found;
}

function describeDeployment(deployment: Deployment, verb: string): string {
  const url = deployment.url ? ` ${deployment.url}` : '';
  return `${verb}: deployment ${deployment.id} is ${paint('bold', deployment.status)}${url}\n`;
}

function promoteCommand(): Command {
  return withApiOptions(
    new Command('promote')
      .description('put a live (preview) deployment in production without rebuilding')
      .argument('<deployment>', 'the deployment id')
      .option('--json', 'print the new production deployment as JSON'),
  ).action(
    action(async (id: string, options: ApiOptions & { json?: boolean }) => {
      const { api } = await linkedProject(options);
      const deployment = await api.request<Deployment>(
        'POST',
        `/api/deployments/${encodeURIComponent(id)}/promote`,
      );
      if (options.json) return printJson(deployment);
      process.stdout.write(describeDeployment(deployment, 'Promoting'));
    }),
  );
}

function rollbackCommand(): Command {
  return withApiOptions(
    new Command('rollback')
      .description('serve the deployment that was live before the current one again, at once')
      .option('--env <environment>', 'the environment', 'production')
      .option('--to <deployment>', 'an earlier deployment of the environment to serve instead')
      .option('--json', 'print the deployment now serving as JSON'),
  ).action(
    action(async (options: ApiOptions & { env: string; to?: string; json?: boolean }) => {
      const { api, link } = await linkedProject(options);
      const env = await environment(api, link.project_id, options.env);
      const deployment = await api.request<Deployment>(
        'POST',
        `/api/environments/${env.id}/rollback`,
        options.to ? { deployment_id: options.to } : {},
      );
      if (options.json) return printJson(deployment);
      process.stdout.write(describeDeployment(deployment, `Rolled ${env.name} back`));
    }),
  );
}

function openCommand(): Command {
  return withApiOptions(
    new Command('open')
      .description("print the project's production URL (or its dashboard page), and open it")
      .option('--dashboard', "the project's page in the dashboard instead")
      .option('--no-browser', 'only print the URL')
      .option('--json', 'print {"url","production_url","dashboard_url"} and open nothing'),
  ).action(
    action(
      async (options: ApiOptions & { dashboard?: boolean; browser: boolean; json?: boolean }) => {
        const { api, link } = await linkedProject(options);
        const project = await api.get<Project>(`/api/projects/${link.project_id}`);
        const dashboard = `${api.target.url}/projects/${project.id}`;
        const url = options.dashboard ? dashboard : (project.production_url ?? dashboard);
        if (options.json) {
          return printJson({
            url,
            production_url: project.production_url,
            dashboard_url: dashboard,
          });
        }
        if (!options.dashboard && !project.production_url) {
          note('Nothing is in production yet: opening the dashboard page.');
        }
        process.stdout.write(`${url}\n`);
        // A browser only for a person at a terminal.
        if (options.browser && process.stdout.isTTY && !isCi()) openBrowser(url);
      },
    ),
  );
}

function openBrowser(url: string): void {
  const command =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => note(`could not start ${command}: open the URL yourself`));
  child.unref();
}

function runnersCommand(): Command {
  return withApiOptions(
    new Command('runners')
      .description("list the runners of the linked project's workspace")
      .option('--workspace <id>', 'another workspace')
      .option('--json', 'print NDJSON: one runner per line'),
  ).action(
    action(async (options: ApiOptions & { workspace?: string; json?: boolean }) => {
      const { api, link } = await linkedProject(options);
      const workspace = options.workspace ?? link.workspace_id;
      const { runners } = await api.get<{ runners: Runner[] }>(
        `/api/workspaces/${encodeURIComponent(workspace)}/runners`,
      );
      if (options.json) return printNdjson(runners);
      if (runners.length === 0) {
        return note('No runners: register one with sparki runner register (docs/runners.md).');
      }
      const [header, ...rows] = runnerRows(runners);
      process.stdout.write(`${formatTable(header!, rows)}\n`);
    }),
  );
}

export function projectCommands(): Command[] {
  return [
    linkCommand(),
    buildsCommand(),
    deploymentsCommand(),
    promoteCommand(),
    rollbackCommand(),
    openCommand(),
    runnersCommand(),
  ];
}
