import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isDatabaseUnavailable } from '../core/database-unavailable';
import { findUnstorableText } from '../core/storable-text';
import { ApiError, fieldErrors, type ZodIssueLike } from '../platform/errors';
import type { HonoEnv } from './context';
import { isDashboardRequest, serveDashboard } from './dashboard';

export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'not_found' }),
      message: z.string().openapi({ example: 'No route for GET /nope' }),
      details: z.unknown().optional(),
    }),
    request_id: z.string().openapi({ example: '5f0c6c1e-4a3b-4f7d-9a51-2f1c1f7a9e10' }),
  })
  .openapi('ErrorResponse');

export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** A route's own failure, described with the shared envelope. */
export function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: ErrorResponseSchema } } };
}

/** Spread into every route's `responses` so the spec lists the shared failures. */
export const openApiErrorResponses = {
  400: errorResponse(
    'The request was malformed or failed validation; no field takes text holding U+0000 or an ' +
      'unpaired UTF-16 surrogate.',
  ),
  429: errorResponse(
    'Too many requests (rate limit or API quota); retry after `Retry-After` seconds.',
  ),
  500: errorResponse('Something went wrong on our side; the request id helps us find it.'),
  503: errorResponse(
    'The database is busy or unreachable (code `unavailable`); retry after `Retry-After` seconds.',
  ),
};

export function errorBody(c: Context<HonoEnv>, code: string, message: string, details?: unknown) {
  const error = details === undefined ? { code, message } : { code, message, details };
  return { error, request_id: c.get('requestId') ?? 'unknown' };
}

/** Long enough for a burst to drain, short enough that a client does not give up. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** An error's message and its causes' (drizzle's "Failed query" hides the driver's reason). */
function errorChain(err: Error): string {
  const messages = [err.message];
  for (let cause = err.cause; cause instanceof Error; cause = cause.cause)
    messages.push(cause.message);
  return messages.join(' <- ');
}

export function handleError(err: Error, c: Context<HonoEnv>): Response {
  if (err instanceof ApiError) {
    return c.json(errorBody(c, err.code, err.message, err.details), err.status);
  }
  if (err instanceof HTTPException) {
    // Hono's own middleware (body limit, etc.) throws plain HTTPExceptions.
    const code = err.status === 413 ? 'payload_too_large' : 'bad_request';
    return c.json(errorBody(c, code, err.message || 'Bad request'), err.status);
  }
  if (isDatabaseUnavailable(err)) {
    // Load (or a database restart), not a bug: the client is told to come back shortly.
    c.get('logger')?.warn('database_unavailable', { error: errorChain(err) });
    return c.json(
      errorBody(c, 'unavailable', 'The database is busy; retry after `Retry-After` seconds'),
      503,
      { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
    );
  }
  c.get('logger')?.error('unhandled_error', { error: errorChain(err), stack: err.stack });
  return c.json(errorBody(c, 'internal_error', 'Internal server error'), 500);
}

export function handleNotFound(c: Context<HonoEnv>): Response | Promise<Response> {
  if (isDashboardRequest(c)) return serveDashboard(c);
  return c.json(errorBody(c, 'not_found', `No route for ${c.req.method} ${c.req.path}`), 404);
}

/**
 * `defaultHook` for every OpenAPI route: validation failures become the shared 400 envelope. The
 * validated input (body, query, path, headers) is also checked here, once for every route, for
 * text Postgres cannot store, which would otherwise fail the query as a 500 or be stored altered.
 */
export function handleZodError(
  result:
    | { success: true; data: unknown }
    | { success: false; error: { issues: readonly ZodIssueLike[] } },
  c: Context<HonoEnv>,
) {
  const issues = result.success ? findUnstorableText(result.data) : result.error.issues;
  if (issues.length > 0) {
    return c.json(
      errorBody(c, 'validation_failed', 'The request failed validation', {
        fields: fieldErrors(issues),
      }),
      400,
    );
  }
}
