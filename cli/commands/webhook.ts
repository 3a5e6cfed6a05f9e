import { Command } from 'commander';
import { linkedProject, withApiOptions } from '../client';
import {
  action,
  askHidden,
  canPrompt,
  needsInput,
  note,
  paint,
  printJson,
  readStdin,
} from '../output';
import type { ApiOptions } from './link';

/**
 * `sparki webhook`: the linked project's repository webhook on GitLab or Gitea, created through
 * the provider's API with an access token of yours (docs/cli.md, docs/webhooks.md). The token
 * travels to Sparki for one request and is stored nowhere, here or there.
 */
interface GitHook {
  installed: boolean;
  provider?: 'gitlab' | 'gitea';
  api_url?: string;
  repository?: string;
  hook_id?: number;
  url?: string;
  secret_current?: boolean;
  updated_at?: string | null;
  result?: 'created' | 'updated';
}

const NAMES = { gitlab: 'GitLab', gitea: 'Gitea' } as const;
export const GIT_TOKEN_ENV = 'SPARKI_GIT_TOKEN';

interface TokenOptions {
  gitTokenStdin?: boolean;
}

/** The provider token: piped in, from the environment, or typed unseen on a terminal. */
async function gitToken(options: TokenOptions): Promise<string> {
  const token = options.gitTokenStdin ? await readStdin() : process.env[GIT_TOKEN_ENV];
  if (token?.trim()) return token.trim();
  if (!canPrompt()) {
    throw needsInput(
      'a GitLab or Gitea access token',
      `set ${GIT_TOKEN_ENV} or pipe it in with --git-token-stdin`,
    );
  }
  return askHidden('GitLab/Gitea access token (hidden)');
}

function describe(hook: GitHook): string {
  if (!hook.installed || !hook.provider)
    return 'No webhook was created by Sparki for this project.';
  const lines = [
    `Webhook #${hook.hook_id} on ${NAMES[hook.provider]} (${hook.repository})`,
    `  sends to ${hook.url}`,
    `  API      ${hook.api_url}`,
  ];
  if (hook.secret_current === false) {
    lines.push(
      paint('yellow', '  the webhook secret was replaced since: run sparki webhook create again'),
    );
  }
  return lines.join('\n');
}

function showCommand(): Command {
  return withApiOptions(
    new Command('show')
      .description("show the webhook Sparki created on the linked project's repository")
      .option('--json', 'print the answer as JSON'),
  ).action(
    action(async (options: ApiOptions & { json?: boolean }) => {
      const { api, link } = await linkedProject(options);
      const hook = await api.get<GitHook>(`/api/projects/${link.project_id}/git-hook`);
      if (options.json) return printJson(hook);
      process.stdout.write(`${describe(hook)}\n`);
    }),
  );
}

function createCommand(): Command {
  return withApiOptions(
    new Command('create')
      .description(
        "create (or update) the project's webhook on GitLab or Gitea with your access token",
      )
      .option('--api-url <url>', "the provider's API root (default: the repository's host)")
      .option('--git-token-stdin', `read the provider token from stdin (else $${GIT_TOKEN_ENV})`)
      .option('--json', 'print the answer as JSON'),
  ).action(
    action(async (options: ApiOptions & TokenOptions & { apiUrl?: string; json?: boolean }) => {
      const { api, link } = await linkedProject(options);
      const token = await gitToken(options);
      const hook = await api.request<GitHook>('POST', `/api/projects/${link.project_id}/git-hook`, {
        token,
        ...(options.apiUrl ? { api_url: options.apiUrl } : {}),
      });
      if (options.json) return printJson(hook);
      note(
        paint(
          'green',
          `${hook.result === 'created' ? 'Created' : 'Updated'} the webhook: pushes now start builds.`,
          process.stderr,
        ),
      );
      process.stdout.write(`${describe(hook)}\n`);
    }),
  );
}

function removeCommand(): Command {
  return withApiOptions(
    new Command('rm')
      .description('delete the webhook on GitLab or Gitea (with your token), or only forget it')
      .option(
        '--forget',
        'only make Sparki forget it: the hook stays on the provider, no token needed',
      )
      .option('--git-token-stdin', `read the provider token from stdin (else $${GIT_TOKEN_ENV})`)
      .option('--json', 'print the answer as JSON'),
  ).action(
    action(async (options: ApiOptions & TokenOptions & { forget?: boolean; json?: boolean }) => {
      const { api, link } = await linkedProject(options);
      const body = options.forget ? {} : { token: await gitToken(options) };
      const answer = await api.request<{ removed: string }>(
        'DELETE',
        `/api/projects/${link.project_id}/git-hook`,
        body,
      );
      if (options.json) return printJson(answer);
      process.stdout.write(
        answer.removed === 'forgotten'
          ? 'Forgotten: the webhook is still on the provider.\n'
          : `Removed the webhook${answer.removed === 'already_gone' ? ' (it was already gone there)' : ''}.\n`,
      );
    }),
  );
}

export function webhookCommand(): Command {
  return new Command('webhook')
    .description(
      "the linked project's repository webhook on GitLab or Gitea, made through their API",
    )
    .addCommand(showCommand())
    .addCommand(createCommand())
    .addCommand(removeCommand());
}
