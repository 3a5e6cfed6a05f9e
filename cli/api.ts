import type { Target } from './config';
import { CliError } from './errors';
import { VERSION } from './version';

/** The API's error envelope (workers/errors.ts). */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
  request_id: string;
}

export interface ApiResponse<T> {
  status: number;
  body: T | undefined;
  requestId: string | null;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as `Authorization: Bearer`; the target's token when omitted. */
  token?: string | null;
}

/**
 * One request to the platform's API, whatever its status; only an unreachable platform throws
 * (a `CliError` naming the URL). For the calls that read refusals themselves (polling).
 */
export async function request<T>(
  target: Pick<Target, 'url' | 'token'>,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': `sparki-cli/${VERSION}`,
  };
  const token = options.token === undefined ? target.token : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new CliError(`cannot reach ${target.url}: ${cause ?? (error as Error).message}`);
  }
  const text = await response.text();
  let body: T | undefined;
  try {
    body = text ? (JSON.parse(text) as T) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, body, requestId: response.headers.get('x-request-id') };
}

export function isErrorBody(body: unknown): body is ApiErrorBody {
  const envelope = body as ApiErrorBody | undefined;
  return typeof envelope?.error?.code === 'string' && typeof envelope.error.message === 'string';
}

/** The line a refusal prints: the API's message and the request id to quote when asking for help. */
export function describeFailure(response: ApiResponse<unknown>): string {
  if (isErrorBody(response.body)) {
    const { error, request_id } = response.body;
    return `${error.message} (HTTP ${response.status} ${error.code}, request id ${request_id})`;
  }
  const id = response.requestId ? `, request id ${response.requestId}` : '';
  return `the platform answered HTTP ${response.status}${id}`;
}

/**
 * A call of the platform's API that must succeed: its JSON body, or a `CliError` (exit 1) with the
 * API's message and request id.
 */
export async function api<T>(
  target: Pick<Target, 'url' | 'token'>,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  const response = await request<T>(target, method, path, options);
  if (response.status >= 200 && response.status < 300) return response.body as T;
  const hint =
    response.status === 401
      ? ` — sign in again with \`sparki login --url ${target.url}\` or check SPARKI_TOKEN`
      : '';
  throw new CliError(`${describeFailure(response)}${hint}`);
}
