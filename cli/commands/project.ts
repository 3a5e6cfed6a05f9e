import { spawn } from 'node:child_process';
import { Command, InvalidArgumentError } from 'commander';
import { type Api, linkedProject, withApiOptions } from '../client';
import {
  action,
  CliError,
  formatTable,
  isCi,
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
import { type ApiOptions, linkCommand, type Project } from './link';

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
