import type { Context } from 'hono';
import { setCookie } from 'hono/cookie';
import {
  rotateRefreshToken,
  SESSION_TTL_MS,
  type SessionClient,
  type SessionGrant,
} from '../../domain/accounts/sessions';
import type { MfaStep } from '../../domain/accounts/sign-in';
import { ApiError } from '../../platform/errors';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  signAccessToken,
  signingKeys,
} from '../../platform/tokens/access-tokens';
import type { HonoEnv } from '../context';
import { ACCESS_COOKIE, REFRESH_COOKIE } from './principal';

export type SessionDelivery = 'token' | 'cookie';

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  session_id: string;
}

/** The device a sign-in comes from, kept with the session so the user can tell sessions apart. */
export function sessionClient(c: Context<HonoEnv>): SessionClient {
  return {
    userAgent: c.req.header('user-agent') ?? null,
    ip: c.req.header('cf-connecting-ip') ?? null,
  };
}

/** A session's token pair: a new access token beside the refresh token just issued. */
export async function issueTokens(c: Context<HonoEnv>, grant: SessionGrant) {
  const { config } = c.get('services');
  const keys = await signingKeys(config.JWT_SIGNING_KEYS);
  const { userId, sessionId } = grant;
  return {
    access_token: await signAccessToken(keys, config.PUBLIC_URL, { userId, sessionId }),
    refresh_token: grant.refreshToken,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    session_id: sessionId,
  } satisfies IssuedTokens;
}

/** A new token pair for a refresh token; a reused one is logged, as it may have leaked. */
export async function refreshSession(c: Context<HonoEnv>, presented: string) {
  const rotation = await rotateRefreshToken(c.get('services').db(), presented);
  if (rotation.kind === 'invalid') {
    throw new ApiError('unauthorized', 'Invalid or expired refresh token');
  }
  if (rotation.kind === 'reused') {
    c.get('logger').warn('refresh_token_reuse', {
      user_id: rotation.userId,
      session_id: rotation.sessionId,
    });
    throw new ApiError(
      'unauthorized',
      'This refresh token was already used; the session has been revoked. Sign in again.',
    );
  }
  if (rotation.graced) {
    c.get('logger').info('refresh_token_grace_reuse', { session_id: rotation.grant.sessionId });
  }
  return issueTokens(c, rotation.grant);
}

export function setSessionCookies(c: Context<HonoEnv>, tokens: IssuedTokens) {
  const options = { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' as const };
  setCookie(c, ACCESS_COOKIE, tokens.access_token, { ...options, maxAge: tokens.expires_in });
  setCookie(c, REFRESH_COOKIE, tokens.refresh_token, {
    ...options,
    maxAge: SESSION_TTL_MS / 1000,
  });
}

/** The body of a sign-in answer: the token pair, or for the dashboard cookies and the session id. */
export function sessionBody(c: Context<HonoEnv>, tokens: IssuedTokens, delivery: SessionDelivery) {
  if (delivery === 'token') return tokens;
  setSessionCookies(c, tokens);
  return { session_id: tokens.session_id, expires_in: tokens.expires_in };
}

/** The answer of a sign-in whose account has MFA: finish it at POST /api/auth/mfa/verify. */
export function mfaChallengeBody(step: MfaStep) {
  return { mfa_required: true, mfa_token: step.mfaToken, expires_in: step.expiresIn } as const;
}
