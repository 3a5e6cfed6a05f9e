import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_PASS_ENV } from './environment';

/** What `sparki runner register` leaves for `sparki runner start`. */
export const RunnerConfigSchema = z.object({
  url: z.url(),
  runner_id: z.uuid(),
  runner_token: z.string().min(1),
  name: z.string(),
  capacity: z.number().int().positive(),
  // Host variables passed on to builds besides (or, with pass_default_env false, instead of)
  // DEFAULT_PASS_ENV. Absent from configurations written before they existed.
  pass_env: z.array(z.string()).default([]),
  pass_default_env: z.boolean().default(true),
});
export type RunnerConfig = z.infer<typeof RunnerConfigSchema>;

/** The host variables a runner passes on to its builds. */
export function passEnvNames(config: RunnerConfig, extra: readonly string[] = []): string[] {
  return [
    ...new Set([
      ...(config.pass_default_env ? DEFAULT_PASS_ENV : []),
      ...config.pass_env,
      ...extra,
    ]),
  ];
}

export function defaultConfigPath(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'sparki', 'runner.json');
}

/** The file holds the runner token: only its owner may read it. */
export async function writeRunnerConfig(path: string, config: RunnerConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created; an older file keeps its permissions.
  await chmod(path, 0o600);
}

export async function readRunnerConfig(path: string): Promise<RunnerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`no runner configuration at ${path}: run "sparki runner register" first`);
  }
  let parsed: z.ZodSafeParseResult<RunnerConfig>;
  try {
    parsed = RunnerConfigSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = RunnerConfigSchema.safeParse(undefined);
  }
  if (!parsed.success) throw new Error(`${path} is not a runner configuration`);
  return parsed.data;
}
