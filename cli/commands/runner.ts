import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  RegisterRunnerRequestSchema,
  RegisterRunnerResponseSchema,
} from '../../core/runner-protocol';
import { Agent } from '../runner/agent';
import {
  defaultConfigPath,
  passEnvNames,
  readRunnerConfig,
  writeRunnerConfig,
} from '../runner/config';
import { passEnvProblem } from '../runner/environment';
import { VERSION } from '../version';

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

function nonNegativeInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new InvalidArgumentError('not a whole number');
  }
  return number;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new InvalidArgumentError('not a positive integer');
  }
  return number;
}

/** `--pass-env NAME[,NAME]`, repeatable. */
function passEnvList(value: string, previous: string[] = []): string[] {
  const names = value.split(',').flatMap((name) => name.trim() || []);
  for (const name of names) {
    const problem = passEnvProblem(name);
    if (problem) throw new InvalidArgumentError(problem);
  }
  return [...previous, ...names];
}

const PASS_ENV_HELP =
  'host variables to pass on to builds, comma-separated (besides the CA and proxy defaults)';

function registerCommand(): Command {
  return new Command('register')
    .description('exchange a registration token for a runner token and save it')
    .requiredOption('--url <url>', 'the Sparki platform, e.g. https://sparki.example.com')
    .addOption(
      new Option('--token <token>', 'registration token from the workspace settings')
        .env('SPARKI_REGISTRATION_TOKEN')
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'runner name shown in the workspace', hostname())
    .option('--labels <labels>', 'comma-separated labels', '')
    .option('--capacity <n>', 'builds run at the same time', positiveInteger, 1)
    .option('--pass-env <names>', PASS_ENV_HELP, passEnvList, [])
    .option('--no-default-pass-env', 'pass none of the CA and proxy variables unless listed')
    .option('--config <path>', 'where to save the runner configuration', defaultConfigPath())
    .action(async function (
      this: Command,
      options: {
        url: string;
        token: string;
        name: string;
        labels: string;
        capacity: number;
        passEnv: string[];
        defaultPassEnv: boolean;
        config: string;
      },
    ) {
      const url = options.url.replace(/\/+$/, '');
      const body = RegisterRunnerRequestSchema.parse({
        registration_token: options.token,
        name: options.name,
        labels: options.labels.split(',').flatMap((label) => label.trim() || []),
        capacity: options.capacity,
        version: VERSION,
      });
      const response = await fetch(`${url}/api/runners/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        this.error(`error: registration refused: HTTP ${response.status} ${await response.text()}`);
      }
      const registered = RegisterRunnerResponseSchema.parse(await response.json());
      const path = resolve(options.config);
      await writeRunnerConfig(path, {
        url,
        runner_id: registered.runner_id,
        runner_token: registered.runner_token,
        name: options.name,
        capacity: options.capacity,
        pass_env: [...new Set(options.passEnv)],
        pass_default_env: options.defaultPassEnv,
      });
      process.stdout.write(
        `Registered runner ${registered.runner_id}; configuration saved to ${path}\n`,
      );
    });
}

interface StartOptions {
  config: string;
  workDir: string;
  drainGrace: number;
  passEnv: string[];
  cacheMaxMb: number;
}

function startCommand(): Command {
  return new Command('start')
    .description('connect to the platform and run builds until SIGTERM')
    .option('--config <path>', 'runner configuration', defaultConfigPath())
    .option('--work-dir <dir>', 'where checkouts are made', join(tmpdir(), 'sparki-runner'))
    .option(
      '--drain-grace <seconds>',
      'on SIGTERM, how long running builds may take before they are handed back',
      positiveInteger,
      60,
    )
    .option('--pass-env <names>', `${PASS_ENV_HELP}, for this run only`, passEnvList, [])
    .option(
      '--cache-max-mb <n>',
      'dependency caches kept in <work-dir>/cache, least recently used evicted past this (0: none)',
      nonNegativeInteger,
      5120,
    )
    .action(async (options: StartOptions) => {
      const config = await readRunnerConfig(resolve(options.config));
      const passEnv = passEnvNames(config, options.passEnv);
      const passed = passEnv.filter((name) => process.env[name]);
      log(`host variables passed to builds: ${passed.join(', ') || 'none'}`);
      const caches = join(resolve(options.workDir), 'cache');
      const cap = options.cacheMaxMb;
      log(cap > 0 ? `dependency caches in ${caches}, up to ${cap} MiB` : 'dependency caches: off');
      const agent = new Agent({
        config,
        workDir: resolve(options.workDir),
        hostEnv: process.env,
        passEnv,
        cacheMaxBytes: options.cacheMaxMb * 1024 * 1024,
        log,
      });
      const interrupt = new AbortController();
      let stopping: Promise<void> | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) {
          interrupt.abort();
          return;
        }
        log(`${signal}: no new builds; stopping`);
        stopping = agent.drain({ ms: options.drainGrace * 1000, signal: interrupt.signal });
        void stopping.then(() => process.exit(0));
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      log(`runner ${config.name} (${config.runner_id}) starting, capacity ${config.capacity}`);
      agent.start();
      const refused = await agent.connection.refused;
      log(refused.message);
      await agent.abandon();
      process.exit(1);
    });
}

export function runnerCommand(): Command {
  return new Command('runner')
    .description('run builds for a workspace')
    .addCommand(registerCommand())
    .addCommand(startCommand());
}
