import type { Context } from 'hono';
import { setCookie } from 'hono/cookie';
import type { Transaction } from '../../db/client';
import { recordAudit } from '../audit';
import type { HonoEnv } from '../context';
import { ACCESS_COOKIE, REFRESH_COOKIE } from './principal';
import { type IssuedTokens, SESSION_TTL_MS, startSession } from './sessions';

export type SessionDelivery = 'token' | 'cookie';

export function setSessionCookies(c: Context<HonoEnv>, tokens: IssuedTokens) {
  const options = { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' as const };
  setCookie(c, ACCESS_COOKIE, tokens.access_token, { ...options, maxAge: tokens.expires_in });
  setCookie(c, REFRESH_COOKIE, tokens.refresh_token, {
    ...options,
    maxAge: SESSION_TTL_MS / 1000,
  });
}

/**
 * The end of every sign-in path (password, password + second factor): a new session and the
 * one `auth.login` audit row, in the caller's transaction.
 */
export async function signIn(
  c: Context<HonoEnv>,
  tx: Transaction,
  userId: string,
  metadata?: Record<string, unknown>,
) {
  const issued = await startSession(c, tx, userId);
  await recordAudit(tx, c, {
    action: 'auth.login',
    actorId: userId,
    targetType: 'session',
    targetId: issued.session_id,
    metadata,
  });
  return issued;
}

/** The body of a sign-in answer: the token pair, or for the dashboard cookies and the session id. */
export function sessionBody(c: Context<HonoEnv>, tokens: IssuedTokens, delivery: SessionDelivery) {
  if (delivery === 'token') return tokens;
  setSessionCookies(c, tokens);
  return { session_id: tokens.session_id, expires_in: tokens.expires_in };
}
