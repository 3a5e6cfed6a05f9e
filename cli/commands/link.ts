import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { DetectionError, detect } from '../../core/detect';
import { projectSlug } from '../../core/slug';
import {
  Api,
  LINK_FILE,
  readLink,
  resolveTarget,
  withApiOptions,
  workingTreeRoot,
  writeLink,
} from '../client';
import { fileSystemTree } from '../fs-tree';
import { action, CliError, canPrompt, choose, needsInput, note, paint, printJson } from '../output';
import { formatDetection } from './detect';

export interface ApiOptions {
  url?: string;
  token?: string;
}

interface Workspace {
  id: string;
  name: string;
  slug: string;
  role: string;
}

export interface Project {
  id: string;
  workspace_id: string;
  name: string;
  slug: string;
  repo_url: string | null;
  production_url: string | null;
}

/** A slug the API accepts, from a directory or repository name. */
export function slugify(name: string): string {
  return projectSlug(name.toLowerCase().replace(/\.git$/, '')) || 'project';
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

export function linkCommand(): Command {
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
