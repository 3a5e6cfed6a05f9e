import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { platformUrl, readCredentials } from '../config';
import { CliError, EXIT } from '../errors';
import {
  CHAINED_SUFFIX,
  gitConfig,
  HOOK_NAMES,
  hookScript,
  isSparkiHook,
  type Repository,
  repositoryAt,
  setGitConfig,
} from '../hooks';
import { action } from '../output';

const URL_KEY = 'sparki.url';
const PROJECT_KEY = 'sparki.project';

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function repository(dir: string): Repository {
  try {
    return repositoryAt(dir);
  } catch {
    throw new CliError(`${dir} is not in a git working tree`, EXIT.usage);
  }
}

const tokenPath = (repo: Repository) => join(repo.gitDir, 'sparki', 'token');

/** The command that runs this CLI again: node and its entry script, as absolute paths. */
function selfCommand(): string[] {
  return [process.execPath, resolve(process.argv[1]!)];
}

async function install(dir: string, options: { url: string; project: string; token?: string }) {
  const repo = repository(dir);
  await mkdir(repo.hooksDir, { recursive: true });
  // Every hook is checked before any is written: a refusal leaves the repository as it was.
  const plans = [];
  for (const name of HOOK_NAMES) {
    const path = join(repo.hooksDir, name);
    const existing = await readText(path);
    const chained = await readText(path + CHAINED_SUFFIX);
    if (existing !== undefined && !isSparkiHook(existing) && chained !== undefined) {
      throw new CliError(
        `${path} exists and ${path}${CHAINED_SUFFIX} too: move one of them away, then run ` +
          '`sparki hooks install` again',
      );
    }
    plans.push({ name, path, chain: existing !== undefined && !isSparkiHook(existing) });
  }
  for (const plan of plans) {
    if (plan.chain) {
      await rename(plan.path, plan.path + CHAINED_SUFFIX);
      console.log(
        `${plan.name}: the existing hook is kept as ${plan.name}${CHAINED_SUFFIX} and runs first`,
      );
    }
    await writeFile(plan.path, hookScript(plan.name, selfCommand()), { mode: 0o755 });
    await chmod(plan.path, 0o755);
  }
  setGitConfig(dir, URL_KEY, options.url.replace(/\/+$/, ''));
  setGitConfig(dir, PROJECT_KEY, options.project);
  if (options.token) {
    await mkdir(join(repo.gitDir, 'sparki'), { recursive: true, mode: 0o700 });
    await writeFile(tokenPath(repo), `${options.token}\n`, { mode: 0o600 });
    await chmod(tokenPath(repo), 0o600);
  }
  console.log(
    `Installed ${HOOK_NAMES.join(' and ')} hooks in ${repo.hooksDir}: each commit asks Sparki ` +
      `to poll project ${options.project} at once.`,
  );
}

async function uninstall(dir: string) {
  const repo = repository(dir);
  let removed = 0;
  for (const name of HOOK_NAMES) {
    const path = join(repo.hooksDir, name);
    const existing = await readText(path);
    if (existing === undefined || !isSparkiHook(existing)) continue;
    await rm(path);
    removed++;
    if ((await readText(path + CHAINED_SUFFIX)) !== undefined) {
      await rename(path + CHAINED_SUFFIX, path);
      console.log(`${name}: the hook it replaced is back`);
    }
  }
  setGitConfig(dir, URL_KEY, undefined);
  setGitConfig(dir, PROJECT_KEY, undefined);
  await rm(join(repo.gitDir, 'sparki'), { recursive: true, force: true });
  console.log(
    removed > 0 ? `Removed ${removed} Sparki hook(s).` : 'No Sparki hooks were installed.',
  );
}

async function notify(dir: string, options: { token?: string }) {
  const repo = repository(dir);
  const url = gitConfig(dir, URL_KEY);
  const project = gitConfig(dir, PROJECT_KEY);
  if (!url || !project) {
    throw new CliError(
      'No Sparki project is set here: run `sparki hooks install` first',
      EXIT.usage,
    );
  }
  // The hook's own token, else the one `sparki login` stored for this platform.
  const token =
    options.token ??
    (await readText(tokenPath(repo)))?.trim() ??
    (await readCredentials()).platforms[platformUrl(url)]?.token;
  if (!token) {
    throw new CliError(
      'No token: run `sparki login`, set SPARKI_TOKEN or run `sparki hooks install --token`',
      EXIT.usage,
    );
  }
  const response = await fetch(`${url}/api/projects/${encodeURIComponent(project)}/poll`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json().catch(() => ({}))) as {
    runner_id?: string;
    error?: { message?: string };
    request_id?: string;
  };
  if (!response.ok) {
    throw new CliError(
      `${new Date().toISOString()} Sparki answered ${response.status}: ${body.error?.message ?? 'no message'}` +
        (body.request_id ? ` (request ${body.request_id})` : ''),
    );
  }
  console.log(`${new Date().toISOString()} runner ${body.runner_id} polls project ${project} now`);
}

const tokenOption = () =>
  new Option('--token <token>', 'an API token of the project’s workspace').env('SPARKI_TOKEN');

export function hooksCommand(): Command {
  const hooks = new Command('hooks').description(
    'git hooks that tell Sparki about a commit at once, for repositories a runner polls',
  );
  hooks
    .command('install')
    .description(
      'add post-commit and post-merge hooks to this working tree (an existing hook is kept and run first)',
    )
    .option('--dir <path>', 'the working tree', '.')
    .requiredOption('--url <url>', 'the Sparki platform, e.g. https://sparki.example.com')
    .requiredOption('--project <id>', 'the project of this repository')
    .addOption(tokenOption().makeOptionMandatory(false))
    .action(
      action(async (options: { dir: string; url: string; project: string; token?: string }) => {
        await install(resolve(options.dir), options);
      }),
    );
  hooks
    .command('uninstall')
    .description('remove the hooks (and put back the ones they replaced)')
    .option('--dir <path>', 'the working tree', '.')
    .action(action(async (options: { dir: string }) => uninstall(resolve(options.dir))));
  hooks
    .command('notify')
    .description('ask Sparki to poll this repository now (what the hooks run)')
    .option('--dir <path>', 'the working tree', '.')
    .addOption(tokenOption())
    .action(
      action(async (options: { dir: string; token?: string }) =>
        notify(resolve(options.dir), options),
      ),
    );
  return hooks;
}
