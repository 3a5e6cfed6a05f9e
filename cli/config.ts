import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, EXIT } from './errors';

/** Environment variables, as `process.env` has them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Where `sparki login` keeps its tokens: one entry per platform URL, in a file only its owner can
 * read (`$XDG_CONFIG_HOME/sparki/credentials.json`, else `~/.config/sparki/credentials.json`).
 */
export function credentialsPath(env: Environment = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'sparki', 'credentials.json');
}

const CredentialSchema = z.object({
  token: z.string().min(1),
  token_id: z.string().optional(),
  workspace_id: z.string().optional(),
  scope: z.string().optional(),
  email: z.string().optional(),
  created_at: z.string().optional(),
});

export type Credential = z.infer<typeof CredentialSchema>;

const CredentialsFileSchema = z.object({
  /** The platform `sparki login` signed in to last: commands use it when given no `--url`. */
  default_url: z.string().optional(),
  platforms: z.record(z.string(), CredentialSchema).default({}),
});

export type CredentialsFile = z.infer<typeof CredentialsFileSchema>;

/**
 * A platform URL as the credentials key it: `https://host[:port][/path]` with no trailing slash
 * (so `https://x.example/` and `https://x.example` are one platform). A usage error otherwise.
 */
export function platformUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new CliError(`not a URL: ${input}`, EXIT.usage);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CliError(`the platform URL must be http(s): ${input}`, EXIT.usage);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export async function readCredentials(path = credentialsPath()): Promise<CredentialsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { platforms: {} };
    throw error;
  }
  const parsed = CredentialsFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new CliError(`${path} is not a sparki credentials file`);
  return parsed.data;
}

/** Writes the whole file, mode 0600 (in a 0700 directory), replacing it in one step. */
export async function writeCredentials(
  file: CredentialsFile,
  path = credentialsPath(),
): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  // `mode` applies only when a file is created; make sure whatever was there is not wider.
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/** Stores the token for `url` (replacing that platform's entry only) and makes it the default. */
export async function saveCredential(
  url: string,
  credential: Credential,
  path = credentialsPath(),
): Promise<void> {
  const file = await readCredentials(path);
  const key = platformUrl(url);
  await writeCredentials(
    { ...file, default_url: key, platforms: { ...file.platforms, [key]: credential } },
    path,
  );
}

/** Removes `url`'s entry; the entry it removed, if there was one. */
export async function removeCredential(
  url: string,
  path = credentialsPath(),
): Promise<Credential | undefined> {
  const file = await readCredentials(path);
  const key = platformUrl(url);
  const removed = file.platforms[key];
  if (!removed) return undefined;
  const { [key]: _, ...platforms } = file.platforms;
  const defaultUrl = file.default_url === key ? Object.keys(platforms)[0] : file.default_url;
  await writeCredentials({ default_url: defaultUrl, platforms }, path);
  return removed;
}

/** What a command talks to: the platform, and the token to send (none when not signed in). */
export interface Target {
  url: string;
  token: string | undefined;
  /** Where the token came from, for messages. */
  source: 'flag' | 'env' | 'credentials' | 'none';
}

export interface TargetOptions {
  url?: string;
  token?: string;
}

/**
 * The platform and token for a command: `--url`, else `SPARKI_URL`, else the platform last signed
 * in to; `--token`, else `SPARKI_TOKEN`, else the stored token for that platform.
 */
export async function resolveTarget(
  options: TargetOptions,
  env: Environment = process.env,
  path = credentialsPath(env),
): Promise<Target> {
  const file = await readCredentials(path);
  const given = options.url ?? env.SPARKI_URL ?? file.default_url;
  if (!given) {
    throw new CliError(
      'which platform? Pass --url <platform URL> or set SPARKI_URL (or sign in with `sparki login --url <platform URL>`)',
      EXIT.usage,
    );
  }
  const url = platformUrl(given);
  if (options.token) return { url, token: options.token, source: 'flag' };
  if (env.SPARKI_TOKEN) return { url, token: env.SPARKI_TOKEN, source: 'env' };
  const stored = file.platforms[url];
  return stored
    ? { url, token: stored.token, source: 'credentials' }
    : { url, token: undefined, source: 'none' };
}

/** As `resolveTarget`, for commands that need to be signed in: exit 4 (needs input) otherwise. */
export async function signedInTarget(
  options: TargetOptions,
  env: Environment = process.env,
  path = credentialsPath(env),
): Promise<Target & { token: string }> {
  const target = await resolveTarget(options, env, path);
  if (!target.token) {
    throw new CliError(
      `not signed in to ${target.url}: run \`sparki login --url ${target.url}\`, or pass --token / set SPARKI_TOKEN`,
      EXIT.needsInput,
    );
  }
  return { ...target, token: target.token };
}
