import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
type Envelope = Schemas['ErrorResponse'];

/** A failed API call, as the API's shared error envelope describes it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static from(status: number, body: unknown): ApiError {
    const envelope = body as Partial<Envelope> | undefined;
    if (envelope?.error?.code) {
      const { code, message, details } = envelope.error;
      return new ApiError(status, code, message, envelope.request_id, details);
    }
    return new ApiError(status, 'unexpected', `The server answered ${status}`, undefined);
  }
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time, shared by every request that found the access cookie expired. */
function refreshSession(): Promise<boolean> {
  refreshing ??= fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin' })
    .then((response) => response.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** The session lives in `__Host-` cookies: an expired access cookie is renewed once, then retried. */
async function fetchWithRefresh(request: Request): Promise<Response> {
  const retry = request.clone();
  const response = await fetch(request);
  const path = new URL(request.url).pathname;
  if (response.status !== 401 || path.startsWith('/api/auth/')) return response;
  return (await refreshSession()) ? fetch(retry) : response;
}

export const api = createClient<paths>({
  baseUrl: window.location.origin,
  credentials: 'same-origin',
  fetch: fetchWithRefresh,
});

/** The data of an openapi-fetch result, or its error envelope thrown as an ApiError. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) throw ApiError.from(response.status, error);
  return data as T;
}
