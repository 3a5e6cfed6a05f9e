import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { credentialsPath, signedInTarget } from './config';
import { ApiRequestError, CliError } from './output';

/**
 * Where the project commands talk to and as whom: `--url`/`SPARKI_URL` and `--token`/`SPARKI_TOKEN`
 * (the URL may also come from the project link), else what `sparki login` stored (cli/config.ts);
 * and which project the working tree is linked to (`.sparki/project.json` at the repository root).
 */

export interface Target {
  url: string;
  token: string;
}

export interface ProjectLink {
  project_id: string;
  workspace_id: string;
  /** The platform the project lives on. */
  url: string;
}

export const LINK_FILE = join('.sparki', 'project.json');

/** `--url` and `--token` on a command that calls the API. */
export function withApiOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the Sparki platform (default: $SPARKI_URL or the project link)')
    .option('--token <token>', 'an API token (default: $SPARKI_TOKEN)');
}

export async function resolveTarget(
  options: { url?: string | undefined; token?: string | undefined },
  link: ProjectLink | null,
  env: Readonly<Record<string, string | undefined>> = process.env,
  credentials = credentialsPath(env),
): Promise<Target> {
  // The link's platform comes before the one last signed in to: the project lives there.
  const url = options.url || env.SPARKI_URL || link?.url || undefined;
  const target = await signedInTarget(
    { ...(url ? { url } : {}), ...(options.token ? { token: options.token } : {}) },
    env,
    credentials,
  );
  return { url: target.url, token: target.token };
}

/** The working tree's root: the git top level, or the directory itself outside git. */
export async function workingTreeRoot(cwd = process.cwd()): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', '--show-toplevel'], { cwd });
    return stdout.trim() || cwd;
  } catch {
    return cwd;
  }
}

export async function readLink(root: string): Promise<ProjectLink | null> {
  let text: string;
  try {
    text = await readFile(join(root, LINK_FILE), 'utf8');
  } catch {
    return null;
  }
  const link = JSON.parse(text) as Partial<ProjectLink>;
  if (typeof link.project_id !== 'string' || typeof link.workspace_id !== 'string') {
    throw new CliError(`${join(root, LINK_FILE)} is not a project link: run sparki link again`);
  }
  return { project_id: link.project_id, workspace_id: link.workspace_id, url: link.url ?? '' };
}

export async function writeLink(root: string, link: ProjectLink): Promise<string> {
  const path = join(root, LINK_FILE);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(link, null, 2)}\n`);
  return path;
}

export class Api {
  constructor(readonly target: Target) {}

  request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.send<T>(method, path, {
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
  }

  /** A raw body (a file stream, sent as it is read): `headers` must say its length. */
  upload<T>(method: string, path: string, body: BodyInit, headers: Record<string, string>) {
    return this.send<T>(method, path, { body, headers });
  }

  private async send<T>(
    method: string,
    path: string,
    init: { body?: BodyInit; headers?: Record<string, string> },
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.target.url + path, {
        method,
        headers: { authorization: `Bearer ${this.target.token}`, ...init.headers },
        body: init.body,
        // A stream goes out as it is read (Node's fetch insists on saying so).
        ...(typeof init.body === 'object' && { duplex: 'half' }),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new CliError(`cannot reach ${this.target.url}: ${cause ?? (error as Error).message}`);
    }
    const text = await response.text();
    const data = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const envelope = data as
        | { error?: { code?: string; message?: string }; request_id?: string }
        | undefined;
      throw new ApiRequestError(
        response.status,
        envelope?.error?.code ?? 'http_error',
        envelope?.error?.message ?? `${method} ${path} answered ${response.status}`,
        envelope?.request_id ?? response.headers.get('x-request-id'),
      );
    }
    return data as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What a project command needs: the API and the linked project. */
export interface Linked {
  api: Api;
  link: ProjectLink;
  root: string;
}

export async function linkedProject(options: {
  url?: string | undefined;
  token?: string | undefined;
}): Promise<Linked> {
  const root = await workingTreeRoot();
  const link = await readLink(root);
  if (!link) {
    throw new CliError(`${root} is not linked to a project: run sparki link first`);
  }
  return { api: new Api(await resolveTarget(options, link)), link, root };
}
