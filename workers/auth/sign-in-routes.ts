import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { createEmailToken } from '../../domain/accounts/email-tokens';
import { REFRESH_REUSE_GRACE_SECONDS } from '../../domain/accounts/sessions';
import { passFirstFactor } from '../../domain/accounts/sign-in';
import { resetPassword, signUp, userByEmail, verifyEmail } from '../../domain/accounts/users';
import { ApiError } from '../../platform/errors';
import { tokenLink } from '../../platform/mail/mailer';
import { mailerFor } from '../../platform/mail/select';
import { hashPassword, verifyAgainstDummy, verifyPassword } from '../../platform/password';
import { auditFor, recordAudit } from '../audit';
import type { HonoEnv } from '../context';
import { openApiErrorResponses } from '../errors';
import { rateLimit } from '../middleware/rate-limit';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { MfaChallengeSchema } from './mfa-schemas';
import { REFRESH_COOKIE } from './principal';
import {
  AcceptedSchema,
  CookieSessionSchema,
  EmailTokenSchema,
  LoginSchema,
  PasswordResetConfirmSchema,
  PasswordResetRequestSchema,
  RefreshSchema,
  SignupSchema,
  TokenPairSchema,
} from './schemas';
import {
  issueTokens,
  mfaChallengeBody,
  refreshSession,
  sessionBody,
  sessionClient,
} from './sign-in';

const INVALID_CREDENTIALS = 'Email or password is incorrect';

function link(c: Context<HonoEnv>, page: string, token: string) {
  return tokenLink(c.get('services').config.PUBLIC_URL, page, token);
}

function mailer(c: Context<HonoEnv>) {
  return mailerFor(c.get('services').config, c.env.LOGS);
}

/**
 * `/api/auth`, public: signing up and in, refreshing, resetting a password. The credentials are
 * what the request presents; nobody is signed in yet.
 */
export const signInRoutes = newRouter();

signInRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/signup',
    middleware: [rateLimit('signup')] as const,
    tags: ['auth'],
    summary: 'Create an account; a verification link is mailed',
    description: 'Answers the same whether or not the address already has an account.',
    request: jsonBody(SignupSchema),
    responses: {
      202: { description: 'Verification mail sent', ...json(AcceptedSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const passwordHash = await hashPassword(input.password);
    const created = await signUp(
      c.get('services').db(),
      { email: input.email, passwordHash, displayName: input.display_name ?? null },
      auditFor(c),
    );
    await mailer(c).send(
      created
        ? {
            to: input.email,
            subject: 'Verify your Sparki account',
            text: `Confirm your address: ${link(c, 'verify-email', created.token)}`,
          }
        : {
            to: input.email,
            subject: 'Your Sparki account',
            text: 'Someone tried to sign up with this address, which already has an account. Sign in or reset your password instead.',
          },
    );
    return c.json({ status: 'verification_sent' }, 202);
  },
);

signInRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/verify-email',
    tags: ['auth'],
    summary: 'Confirm an address with the token from the verification mail',
    request: jsonBody(EmailTokenSchema),
    responses: {
      200: { description: 'Verified', ...json(AcceptedSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { token } = c.req.valid('json');
    const verified = await verifyEmail(c.get('services').db(), token, auditFor(c));
    if (!verified)
      throw new ApiError('bad_request', 'The verification link is invalid, used or expired');
    return c.json({ status: 'verified' }, 200);
  },
);

signInRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/login',
    middleware: [rateLimit('login')] as const,
    tags: ['auth'],
    summary: 'Sign in with email and password',
    description:
      'For an account with MFA the answer is an `MfaChallenge`: finish with POST /api/auth/mfa/verify.',
    request: jsonBody(LoginSchema),
    responses: {
      200: {
        description: 'Signed in: a token pair, or cookies when `session` is `cookie`',
        content: {
          'application/json': {
            schema: z.union([TokenPairSchema, CookieSessionSchema, MfaChallengeSchema]),
          },
        },
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const db = c.get('services').db();
    const user = await userByEmail(db, input.email);
    if (!user?.passwordHash) {
      await verifyAgainstDummy(input.password);
      throw new ApiError('unauthorized', INVALID_CREDENTIALS);
    }
    const check = await verifyPassword(input.password, user.passwordHash);
    if (!check.ok || user.disabledAt) {
      await recordAudit(db, c, {
        action: 'auth.login',
        actorId: user.id,
        targetType: 'user',
        targetId: user.id,
        result: 'failure',
      });
      throw new ApiError('unauthorized', INVALID_CREDENTIALS);
    }
    if (!user.emailVerifiedAt) {
      throw new ApiError(
        'email_not_verified',
        'Confirm your email address first; the link was mailed at signup',
      );
    }
    const rehashed = check.needsRehash ? await hashPassword(input.password) : undefined;
    const outcome = await passFirstFactor(db, user, sessionClient(c), auditFor(c), { rehashed });
    if ('mfa' in outcome) return c.json(mfaChallengeBody(outcome.mfa), 200);
    return c.json(sessionBody(c, await issueTokens(c, outcome.session), input.session), 200);
  },
);

signInRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/refresh',
    middleware: [rateLimit('token_refresh')] as const,
    tags: ['auth'],
    summary: 'Exchange a refresh token for a new pair (the old one stops working)',
    description: `Presenting a spent refresh token again revokes its whole session, except the previous token within ${REFRESH_REUSE_GRACE_SECONDS} s of its rotation while no later token of the session has been used: that gets another pair (two tabs refreshing at once).`,
    request: { body: { ...json(RefreshSchema), required: false } },
    responses: {
      200: {
        description: 'Rotated',
        content: {
          'application/json': { schema: z.union([TokenPairSchema, CookieSessionSchema]) },
        },
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const fromBody = c.req.header('content-type')?.includes('json')
      ? c.req.valid('json').refresh_token
      : undefined;
    const cookie = getCookie(c, REFRESH_COOKIE);
    const presented = fromBody ?? cookie;
    if (!presented) throw new ApiError('unauthorized', 'No refresh token presented');
    const tokens = await refreshSession(c, presented);
    return c.json(sessionBody(c, tokens, fromBody ? 'token' : 'cookie'), 200);
  },
);

signInRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/password-reset',
    middleware: [rateLimit('password_reset')] as const,
    tags: ['auth'],
    summary: 'Mail a password reset link',
    description: 'Answers the same whether or not the address has an account.',
    request: jsonBody(PasswordResetRequestSchema),
    responses: {
      202: { description: 'Mail sent if the account exists', ...json(AcceptedSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { email } = c.req.valid('json');
    const db = c.get('services').db();
    const user = await userByEmail(db, email);
    if (user) {
      const token = await createEmailToken(db, user.id, 'reset_password');
      await mailer(c).send({
        to: email,
        subject: 'Reset your Sparki password',
        text: `Choose a new password (valid for one hour): ${link(c, 'reset-password', token)}`,
      });
    }
    return c.json({ status: 'reset_mail_sent_if_account_exists' }, 202);
  },
);

signInRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/password-reset/confirm',
    middleware: [rateLimit('password_reset_confirm')] as const,
    tags: ['auth'],
    summary: 'Set a new password with the mailed token; every session is signed out',
    request: jsonBody(PasswordResetConfirmSchema),
    responses: {
      200: { description: 'Password changed', ...json(AcceptedSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const passwordHash = await hashPassword(input.password);
    const changed = await resetPassword(
      c.get('services').db(),
      input.token,
      passwordHash,
      auditFor(c),
    );
    if (!changed) throw new ApiError('bad_request', 'The reset link is invalid, used or expired');
    return c.json({ status: 'password_changed' }, 200);
  },
);
