import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { useApiToken } from '../../domain/accounts/api-tokens';
import { isLiveSession } from '../../domain/accounts/sessions';
import { ApiError } from '../../platform/errors';
import { signingKeys, verifyAccessToken } from '../../platform/tokens/access-tokens';
import { bearerToken } from '../bearer';
import type { HonoEnv, Principal } from '../context';

export const ACCESS_COOKIE = '__Host-sparki_at';
export const REFRESH_COOKIE = '__Host-sparki_rt';
export const PAT_PREFIX = 'spk_pat_';

const TOKEN_QUERY_PARAMS = ['access_token', 'token', 'refresh_token', 'api_key'];
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function unauthorized(message = 'Authentication required'): ApiError {
  return new ApiError('unauthorized', message);
}

/** A malformed header is refused rather than treated as anonymous: the caller meant to sign in. */
function presentedToken(c: Context<HonoEnv>): string | undefined {
  if (!c.req.header('authorization')) return undefined;
  const token = bearerToken(c);
  if (!token) throw unauthorized('Authorization must be "Bearer <token>"');
  return token;
}

async function sessionPrincipal(c: Context<HonoEnv>, token: string, viaCookie: boolean) {
  const { config, db } = c.get('services');
  const keys = await signingKeys(config.JWT_SIGNING_KEYS);
  const claims = await verifyAccessToken(keys, config.PUBLIC_URL, token).catch(() => {
    throw unauthorized('Invalid or expired access token');
  });
  const session = { kind: 'session', userId: claims.sub, sessionId: claims.sid } as const;
  // Checked on every request so a revoked session stops working now, not at token expiry.
  if (!(await isLiveSession(db(), session))) throw unauthorized('Session has ended');
  return { ...session, viaCookie };
}

async function tokenPrincipal(c: Context<HonoEnv>, token: string): Promise<Principal> {
  const credential = await useApiToken(c.get('services').db(), token);
  if (!credential) throw unauthorized('Invalid, expired or revoked API token');
  return credential;
}

/** Tokens never travel in URLs, where logs and browser history keep them. */
function refuseQueryTokens(c: Context<HonoEnv>) {
  const query = c.req.query();
  if (TOKEN_QUERY_PARAMS.some((name) => name in query)) {
    throw new ApiError('bad_request', 'Tokens are not accepted in query strings');
  }
}

/** For the sign-in routes, which identify nobody yet but take credentials all the same. */
export function noTokensInQuery(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    refuseQueryTokens(c);
    await next();
  };
}

function anonymousIfRejected(err: unknown): null {
  if (err instanceof ApiError && err.code === 'unauthorized') return null;
  throw err;
}

/**
 * Establishes who is calling (or null) from `Authorization: Bearer` (access token or personal
 * access token) or the dashboard's cookie. Cookie-authenticated mutations must come from our
 * own origin (CSRF); tokens in query strings are refused outright.
 */
export function authenticate(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    refuseQueryTokens(c);
    const bearer = presentedToken(c);
    const cookie = bearer ? undefined : getCookie(c, ACCESS_COOKIE);
    let principal: Principal | null = null;
    if (bearer?.startsWith(PAT_PREFIX)) principal = await tokenPrincipal(c, bearer);
    else if (bearer) principal = await sessionPrincipal(c, bearer, false);
    // A stale cookie makes the browser anonymous rather than refused: routes that act for
    // another credential (the live log socket, opened with a ticket) must still answer it.
    else if (cookie) principal = await sessionPrincipal(c, cookie, true).catch(anonymousIfRejected);

    if (principal?.kind === 'session' && principal.viaCookie && MUTATING.has(c.req.method)) {
      const origin = c.req.header('origin');
      if (origin !== new URL(c.get('services').config.PUBLIC_URL).origin) {
        throw new ApiError('forbidden', 'Cross-site request refused (Origin does not match)');
      }
    }
    c.set('principal', principal);
    await next();
  };
}

export function requirePrincipal(c: Context<HonoEnv>): Principal {
  const principal = c.get('principal');
  if (!principal) throw unauthorized();
  return principal;
}

/** Account-level routes (sessions, MFA, tokens) are for the user, not for a workspace token. */
export function requireSession(c: Context<HonoEnv>) {
  const principal = requirePrincipal(c);
  if (principal.kind !== 'session') {
    throw new ApiError('forbidden', 'This endpoint needs a signed-in session, not an API token');
  }
  return principal;
}
