import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { parseDotenv, planDotenv, serializeDotenv } from '../../core/dotenv';
import { linkedProject, withApiOptions } from '../client';
import {
  action,
  ask,
  askHidden,
  CliError,
  canPrompt,
  formatTable,
  needsInput,
  note,
  paint,
  printNdjson,
  readStdin,
} from '../output';
import { environment } from './project';

interface ApiOptions {
  url?: string;
  token?: string;
}

interface Variable {
  name: string;
  secret: boolean;
  value?: string;
  updated_at?: string | null;
}

interface Environment {
  id: string;
  name: string;
  kind: string;
  variables: Variable[];
}

const ENV_OPTION = ['--env <environment>', 'the environment (name)', 'production'] as const;

const variablePath = (projectId: string, env: string, name: string) =>
  `/api/projects/${projectId}/environments/${encodeURIComponent(env)}/variables/${encodeURIComponent(name)}`;

/** The `.env` text of an environment: its plain variables only, as secrets are never read back. */
export function pullText(variables: readonly Variable[]): { text: string; skipped: string[] } {
  const plain = variables.filter((v) => !v.secret && v.value !== undefined);
  return {
    text: serializeDotenv(plain.map((v) => ({ name: v.name, value: v.value! }))),
    skipped: variables.filter((v) => v.secret).map((v) => v.name),
  };
}

function lsCommand(): Command {
  return withApiOptions(
    new Command('ls')
      .description("list the linked project's variables (secrets without their values)")
      .option('--env <environment>', 'only this environment (name)')
      .option('--json', 'print NDJSON: one variable per line, with its environment'),
  ).action(
    action(async (options: ApiOptions & { env?: string; json?: boolean }) => {
      const { api, link } = await linkedProject(options);
      const { environments } = await api.get<{ environments: Environment[] }>(
        `/api/projects/${link.project_id}/environments`,
      );
      const shown = options.env
        ? [await environment(api, link.project_id, options.env)]
        : environments;
      const rows = shown.flatMap((env) =>
        (env as Environment).variables.map((v) => ({ environment: env.name, ...v })),
      );
      if (options.json) return printNdjson(rows);
      if (rows.length === 0) return note('No variables: add one with sparki env add NAME value.');
      process.stdout.write(
        `${formatTable(
          ['ENVIRONMENT', 'NAME', 'VALUE'],
          rows.map((v) => [
            v.environment,
            v.name,
            v.secret ? paint('dim', '(secret)') : (v.value ?? ''),
          ]),
        )}\n`,
      );
    }),
  );
}

function addCommand(): Command {
  return withApiOptions(
    new Command('add')
      .description('set a variable (or, with --secret, a write-only secret)')
      .argument('<name>', 'the variable name')
      .argument(
        '[value]',
        'its value; - reads it from stdin; asked for on a terminal when left out',
      )
      .option(...ENV_OPTION)
      .option('--secret', 'store it as a secret: never shown or pulled again'),
  ).action(
    action(
      async (
        name: string,
        value: string | undefined,
        options: ApiOptions & { env: string; secret?: boolean },
      ) => {
        const { api, link } = await linkedProject(options);
        let text = value;
        if (text === '-') text = await readStdin();
        else if (text === undefined) {
          if (!canPrompt())
            throw needsInput(
              `the value of ${name}`,
              `pass it: sparki env add ${name} <value> (or - for stdin)`,
            );
          text = options.secret
            ? await askHidden(`Value of ${name} (hidden)`)
            : await ask(`Value of ${name}`);
        }
        await api.request('PUT', variablePath(link.project_id, options.env, name), {
          value: text,
          secret: Boolean(options.secret),
        });
        process.stdout.write(
          `Set ${options.secret ? 'secret' : 'variable'} ${name} in ${options.env}\n`,
        );
      },
    ),
  );
}

function rmCommand(): Command {
  return withApiOptions(
    new Command('rm')
      .description('remove a variable or secret')
      .argument('<name>', 'the variable name')
      .option(...ENV_OPTION),
  ).action(
    action(async (name: string, options: ApiOptions & { env: string }) => {
      const { api, link } = await linkedProject(options);
      await api.request('DELETE', variablePath(link.project_id, options.env, name));
      process.stdout.write(`Removed ${name} from ${options.env}\n`);
    }),
  );
}

function pullCommand(): Command {
  return withApiOptions(
    new Command('pull')
      .description("write an environment's plain variables to a .env file (never its secrets)")
      .argument('[file]', 'where to write', '.env')
      .option(...ENV_OPTION),
  ).action(
    action(async (file: string, options: ApiOptions & { env: string }) => {
      const { api, link } = await linkedProject(options);
      const env = await environment(api, link.project_id, options.env);
      const { text, skipped } = pullText(env.variables);
      const path = resolve(file);
      await writeFile(path, text, { mode: 0o600 });
      const count = env.variables.length - skipped.length;
      process.stdout.write(
        `Wrote ${count} variable${count === 1 ? '' : 's'} of ${env.name} to ${path}\n`,
      );
      if (skipped.length > 0) note(`Secrets are not written: ${skipped.join(', ')}`);
    }),
  );
}

function importCommand(): Command {
  return withApiOptions(
    new Command('import')
      .description('set the variables a .env file lists (others stay as they are)')
      .argument('<file>', 'the .env file')
      .option(...ENV_OPTION)
      .option('--secret', 'store them as secrets'),
  ).action(
    action(async (file: string, options: ApiOptions & { env: string; secret?: boolean }) => {
      const { api, link } = await linkedProject(options);
      const text = await readFile(resolve(file), 'utf8').catch(() => {
        throw new CliError(`cannot read ${file}`);
      });
      const { entries, problems } = parseDotenv(text);
      if (problems.length > 0) {
        throw new CliError(
          `${file} has problems, nothing was imported:\n${problems.map((p) => `  line ${p.line}: ${p.message}`).join('\n')}`,
        );
      }
      const env = await environment(api, link.project_id, options.env);
      const plan = planDotenv(env.variables, entries, {
        asSecret: Boolean(options.secret),
        removeMissing: false,
      });
      for (const [i, v] of plan.set.entries()) {
        if (process.stderr.isTTY)
          process.stderr.write(`\r${i + 1}/${plan.set.length} ${v.name}\x1b[K`);
        await api.request('PUT', variablePath(link.project_id, env.name, v.name), {
          value: v.value,
          secret: v.secret,
        });
      }
      if (process.stderr.isTTY && plan.set.length > 0) process.stderr.write('\r\x1b[K');
      const unchanged = entries.length - plan.set.length;
      process.stdout.write(
        `Imported ${plan.set.length} variable${plan.set.length === 1 ? '' : 's'} into ${env.name}` +
          `${unchanged > 0 ? ` (${unchanged} unchanged)` : ''}\n`,
      );
    }),
  );
}

export function envCommand(): Command {
  return new Command('env')
    .description("the linked project's environment variables and secrets")
    .addCommand(lsCommand())
    .addCommand(addCommand())
    .addCommand(rmCommand())
    .addCommand(pullCommand())
    .addCommand(importCommand());
}
